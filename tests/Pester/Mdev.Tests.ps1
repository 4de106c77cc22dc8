#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# Mediated devices on fixture trees laid out as the kernel does (the mtty sample: a parent that is no PCI
# device), and the definitions both ways with Debian's real mdevctl, run in a private mount namespace
# whose /etc/mdevctl.d is the fixture's (the host's /etc/mdevctl.d is never touched, and mdevctl is only
# asked to list and define, never to start or stop a device).

BeforeDiscovery {
    $script:canRunMdevctl = (& id -u) -eq '0' -and $null -ne (Get-Command mdevctl -ErrorAction SilentlyContinue) -and
        $null -ne (Get-Command unshare -ErrorAction SilentlyContinue) -and ((& unshare --mount --propagation private true 2>$null), $LASTEXITCODE)[-1] -eq 0
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:u1 = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'

    function New-FakeMdevHost {
        $root = New-PciTestRoot
        $mtty = Join-Path $root 'sys/devices/virtual/mtty/mtty'
        foreach ($t in @(@{ Id = 'mtty-1'; Name = 'Single port serial'; Free = 24 }, @{ Id = 'mtty-2'; Name = 'Dual port serial'; Free = 0 })) {
            $dir = Join-Path $mtty "mdev_supported_types/$($t.Id)"
            New-Item -ItemType Directory -Force -Path (Join-Path $dir 'devices') | Out-Null
            Set-Content -Path (Join-Path $dir 'name') -Value $t.Name
            Set-Content -Path (Join-Path $dir 'available_instances') -Value $t.Free
            Set-Content -Path (Join-Path $dir 'device_api') -Value 'vfio-pci'
            Set-Content -Path (Join-Path $dir 'create') -Value '' -NoNewline
        }
        New-Item -ItemType Directory -Force -Path (Join-Path $root 'sys/class/mdev_bus'), (Join-Path $root 'sys/bus/mdev/devices'), (Join-Path $root 'dev/vfio') | Out-Null
        New-Item -ItemType Directory -Force -Path (Join-Path $root 'etc/mdevctl.d/scripts.d/callouts'), (Join-Path $root 'etc/mdevctl.d/scripts.d/notifiers') | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $root 'sys/class/mdev_bus/mtty') -Target '../../devices/virtual/mtty/mtty' | Out-Null
        return $root
    }

    # What the kernel shows after "echo UUID > .../mtty-1/create" (LAB L19).
    function Add-FakeMdevInstance([string] $Root, [string] $Uuid, [int] $Group) {
        $dir = Join-Path $Root "sys/devices/virtual/mtty/mtty/$Uuid"
        New-Item -ItemType Directory -Force -Path $dir | Out-Null
        Set-Content -Path (Join-Path $dir 'remove') -Value '' -NoNewline
        New-Item -ItemType SymbolicLink -Path (Join-Path $dir 'mdev_type') -Target '../mdev_supported_types/mtty-1' | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $dir 'iommu_group') -Target "../../../../kernel/iommu_groups/$Group" | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $Root "sys/bus/mdev/devices/$Uuid") -Target "../../../devices/virtual/mtty/mtty/$Uuid" | Out-Null
        Set-Content -Path (Join-Path $Root "dev/vfio/$Group") -Value ''
    }

    # mdevctl with the fixture's etc/mdevctl.d bind-mounted over /etc/mdevctl.d in a private mount namespace.
    function Invoke-Mdevctl([string] $Root, [string[]] $Arguments) {
        & unshare --mount --propagation private sh -c 'mount --bind "$1" /etc/mdevctl.d && shift && exec mdevctl "$@"' sh (Join-Path $Root 'etc/mdevctl.d') @Arguments
    }
}

Describe 'Get-MediatedDeviceType' {
    BeforeAll { $script:root = New-FakeMdevHost }
    AfterAll { Remove-PciTestRoot $root }

    It 'lists the types of a parent that is no PCI device' {
        $types = Get-MediatedDeviceType -Root $root
        $types.Type | Should -Be @('mtty-1', 'mtty-2')
        $types[0].Parent | Should -Be 'mtty'
        $types[0].ParentIsPci | Should -BeFalse
        $types[0].Name | Should -Be 'Single port serial'
        $types[0].AvailableInstances | Should -Be 24
    }

    It '-Available leaves out exhausted types, and -Type takes wildcards' {
        (Get-MediatedDeviceType -Root $root -Available).Type | Should -Be 'mtty-1'
        (Get-MediatedDeviceType -Root $root mtty -Type '*-2').Type | Should -Be 'mtty-2'
    }

    It 'reports an unknown parent as MediatedDeviceParentNotFound and suggests the name in its case' {
        Get-MediatedDeviceType -Root $root -Parent MTTY -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'MediatedDeviceParentNotFound,*'
        $errors[0].ErrorDetails.RecommendedAction | Should -BeLike "*'mtty'*"
    }
}

Describe 'New-MediatedDevice and Remove-MediatedDevice on a fixture tree' {
    BeforeEach { $script:root = New-FakeMdevHost }
    AfterEach { Remove-PciTestRoot $root }

    It '-WhatIf lists each write in order and writes nothing' {
        $r = Invoke-ChildPwsh -Root $root -Script {
            param($Root)
            New-MediatedDevice -Root $Root -Parent mtty -Type mtty-1 -Uuid 83B8F4F2-509F-382F-3C1E-E6BFE0FA1001 -Attribute ([ordered]@{ foo = 'bar' }) -Persist -StartMode Auto -WhatIf
        }
        $r.Output | Should -BeLike "*What if: create mdev $u1 on mtty type mtty-1 (24 available): write '$u1' to /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create; write 'bar' to /sys/bus/mdev/devices/$u1/foo; write /etc/mdevctl.d/mtty/$u1 (start=auto, 1 attribute(s))*"
        Get-Content -Raw (Join-Path $root 'sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/create') | Should -BeNullOrEmpty
        Test-Path (Join-Path $root "etc/mdevctl.d/mtty") | Should -BeFalse
    }

    It 'writes the UUID to create, and says so when the kernel (here a plain file) makes no device' {
        New-MediatedDevice -Root $root -Parent mtty -Type mtty-1 -Uuid $u1 -ErrorVariable errors -ErrorAction SilentlyContinue
        Get-Content -Raw (Join-Path $root 'sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/create') | Should -Be $u1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'MediatedDeviceCreateFailed,*'
    }

    It 'refuses <Case> with <Id> and writes nothing' -ForEach @(
        @{ Case = 'an exhausted type'; Id = 'MediatedDeviceTypeExhausted'; Splat = @{ Parent = 'mtty'; Type = 'mtty-2' } }
        @{ Case = 'an unknown type'; Id = 'MediatedDeviceTypeNotFound'; Splat = @{ Parent = 'mtty'; Type = 'mtty-9' } }
        @{ Case = 'a malformed UUID'; Id = 'InvalidMediatedDeviceUuid'; Splat = @{ Parent = 'mtty'; Type = 'mtty-1'; Uuid = 'nope' } }
        @{ Case = '-NoStart without -Persist'; Id = 'InvalidMediatedDeviceRequest'; Splat = @{ Parent = 'mtty'; Type = 'mtty-1'; NoStart = $true } }
        @{ Case = 'attributes without order'; Id = 'InvalidMediatedDeviceRequest'; Splat = @{ Parent = 'mtty'; Type = 'mtty-1'; Attribute = @{ a = '1'; b = '2' } } }
        @{ Case = 'an attribute that is a path'; Id = 'InvalidMediatedDeviceAttribute'; Splat = @{ Parent = 'mtty'; Type = 'mtty-1'; Attribute = @{ '../remove' = '1' } } }
    ) {
        New-MediatedDevice -Root $root @Splat -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        Get-ChildItem -Recurse -File (Join-Path $root 'sys/devices/virtual/mtty/mtty/mdev_supported_types') -Filter create | Get-Content -Raw | Should -BeNullOrEmpty
    }

    It 'defines a device whose UUID is uuidgen''s for the text, and Remove-MediatedDevice -Undefine deletes it' {
        $expected = if (Get-Command uuidgen -ErrorAction SilentlyContinue) { & uuidgen --sha1 --namespace '@x500' --name 'one-42-0' } else { 'c4a9cf77-088e-5d36-8303-eb7f09922c64' }
        $d = New-MediatedDevice -Root $root -Parent mtty -Type mtty-1 -DeterministicFrom 'one-42-0' -Persist -NoStart
        $d.Uuid | Should -Be $expected
        $d.State | Should -Be 'Defined'
        (Get-MediatedDevice -Root $root -Defined).Uuid | Should -Be $expected
        Get-MediatedDevice -Root $root | Should -BeNullOrEmpty
        Get-MediatedDevice -Root $root -Defined | Remove-MediatedDevice -Undefine -Confirm:$false
        Test-Path (Join-Path $root "etc/mdevctl.d/mtty/$expected") | Should -BeFalse
    }

    It 'lists an active, defined device in use, and refuses to remove it without -Force' {
        Add-FakeMdevInstance -Root $root -Uuid $u1 -Group 16
        New-Item -ItemType Directory -Path (Join-Path $root 'etc/mdevctl.d/mtty') | Out-Null
        Set-Content -Path (Join-Path $root "etc/mdevctl.d/mtty/$u1") -Value '{"mdev_type":"mtty-1","start":"auto","attrs":[]}' -NoNewline
        New-Item -ItemType Directory -Force -Path (Join-Path $root 'proc/4242/fd') | Out-Null
        Set-Content -Path (Join-Path $root 'proc/4242/comm') -Value 'qemu-system-x86'
        New-Item -ItemType SymbolicLink -Path (Join-Path $root 'proc/4242/fd/20') -Target '/dev/vfio/16' | Out-Null
        $d = Get-MediatedDevice -Root $root -Uuid $u1
        $d.State | Should -Be 'ActiveAndDefined'
        $d.StartMode | Should -Be 'Auto'
        $d.DevicePath | Should -Be '/dev/vfio/16'
        $d.InUse.ProcessId | Should -Be 4242
        $d | Remove-MediatedDevice -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'MediatedDeviceInUse,*'
        Get-Content -Raw (Join-Path $root "sys/devices/virtual/mtty/mtty/$u1/remove") | Should -BeNullOrEmpty
    }
}

Describe 'Definitions both ways with Debian''s mdevctl' -Skip:(-not $canRunMdevctl) {
    BeforeEach { $script:root = New-FakeMdevHost }
    AfterEach { Remove-PciTestRoot $root }

    It 'mdevctl lists what New-MediatedDevice -Persist wrote' {
        New-MediatedDevice -Root $root -Parent mtty -Type mtty-1 -Uuid $u1 -Attribute ([ordered]@{ foo = 'bar'; baz = '2' }) -Persist -StartMode Auto -NoStart | Out-Null
        $listed = (Invoke-Mdevctl -Root $root -Arguments @('list', '-d', '--dumpjson')) -join "`n" | ConvertFrom-Json
        $entry = $listed[0].mtty[0].$u1
        $entry.mdev_type | Should -Be 'mtty-1'
        $entry.start | Should -Be 'auto'
        ($entry.attrs | ForEach-Object { $_.psobject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" } }) | Should -Be @('foo=bar', 'baz=2')
    }

    It 'a definition mdevctl wrote is the file New-MediatedDevice writes, and Get-MediatedDevice reads it' {
        $u2 = '11111111-2222-3333-4444-555555555555'
        Invoke-Mdevctl -Root $root -Arguments @('define', '-u', $u2, '-p', 'mtty', '-t', 'mtty-1', '--auto') | Out-Null
        Invoke-Mdevctl -Root $root -Arguments @('modify', '-u', $u2, '--addattr=foo', '--value=bar') | Out-Null
        $byMdevctl = Get-Content -Raw (Join-Path $root "etc/mdevctl.d/mtty/$u2")
        $d = Get-MediatedDevice -Root $root -Defined -Uuid $u2
        $d.Type | Should -Be 'mtty-1'
        $d.StartMode | Should -Be 'Auto'
        "$($d.Attributes[0].Name)=$($d.Attributes[0].Value)" | Should -Be 'foo=bar'

        Remove-Item (Join-Path $root "etc/mdevctl.d/mtty/$u2")
        New-MediatedDevice -Root $root -Parent mtty -Type mtty-1 -Uuid $u2 -Attribute @{ foo = 'bar' } -Persist -StartMode Auto -NoStart | Out-Null
        Get-Content -Raw (Join-Path $root "etc/mdevctl.d/mtty/$u2") | Should -BeExactly $byMdevctl
    }
}

Describe 'Test-MediatedDeviceConfiguration' {
    BeforeAll { $script:root = New-FakeMdevHost }
    AfterAll { Remove-PciTestRoot $root }

    It 'finds a definition with start=auto that is not active, and Debian''s broken udev rule with its fix' {
        New-MediatedDevice -Root $root -Parent mtty -Type mtty-1 -Uuid $u1 -Persist -StartMode Auto -NoStart | Out-Null
        New-Item -ItemType Directory -Force -Path (Join-Path $root 'lib/udev/rules.d'), (Join-Path $root 'usr/bin') | Out-Null
        Set-Content -Path (Join-Path $root 'lib/udev/rules.d/60-mdevctl.rules') -Value 'ACTION=="add", TEST=="/etc/mdevctl.d/$kernel", RUN+="/bin/sh -c ''{ /usr/sbin/mdevctl start-parent-mdevs %k 2>&3 | logger -t mdevctl; } 3>&1 1>&2 | logger -t mdevctl -p 2''"'
        Set-Content -Path (Join-Path $root 'usr/bin/mdevctl') -Value ''
        $checks = Test-MediatedDeviceConfiguration -Root $root
        ($checks | Where-Object Name -eq 'DefinedNotActive').Status | Should -Be 'Warning'
        ($checks | Where-Object Name -eq 'DefinedNotActive').Detail | Should -BeLike "*$u1 (mtty mtty-1)*"
        $rule = $checks | Where-Object Name -eq 'MdevctlUdevRuleBroken'
        $rule.Status | Should -Be 'Fail'
        $rule.Remedy | Should -BeLike "*sed 's|/usr/sbin/mdevctl|/usr/bin/mdevctl|g'*> /etc/udev/rules.d/60-mdevctl.rules*"
        Test-MediatedDeviceConfiguration -Root $root -Quiet | Should -BeFalse
    }
}
