#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:runbooks = Join-Path $PSScriptRoot '..' '..' 'docs' 'runbooks'
    $script:root = New-PciTestRoot
    New-FakeIommuHost -Root $root
    New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
}

Describe 'Runbooks' {
    It 'Test-HostReady gives the GPU its verdict' {
        $verdict = & (Join-Path $runbooks 'Test-HostReady.ps1') -Root $root -Filter '10de:*'
        $verdict.PciAddress | Should -Be '0000:01:00.0'
        $verdict.ReadyNow | Should -BeFalse
    }

    It 'Set-GpuPassthrough -WhatIf binds nothing' {
        & (Join-Path $runbooks 'Set-GpuPassthrough.ps1') -Root $root -WhatIf
        (Get-PciDevice -Root $root -Address 0000:01:00.0).Driver | Should -Be 'nvidia'
    }

    It 'New-GpuTemplate prints a PCI section' {
        & (Join-Path $runbooks 'New-GpuTemplate.ps1') -Root $root | Should -BeLike 'PCI = `[*VENDOR = "10de"*'
    }
}

# The Pester runbooks (docs/runbooks/*.Tests.ps1), run as users run them: Invoke-Pester in a fresh pwsh, with the module
# found by name (PSModulePath), against fixture trees. Each must pass on a host in the state it promises and fail on one
# that is not.
Describe 'Pester runbooks' {
    BeforeAll {
        function Invoke-Runbook([string] $Name, [hashtable] $Data) {
            $work = Join-Path ([System.IO.Path]::GetTempPath()) "pcipt-runbook-$([guid]::NewGuid().ToString('n'))"
            New-Item -ItemType Directory -Path $work | Out-Null
            try {
                $script = Join-Path $work 'run.ps1'
                $dataText = ($Data.GetEnumerator() | ForEach-Object { "'$($_.Key)' = '$($_.Value)'" }) -join '; '
                Set-Content -Path $script -Value @"
`$env:PSModulePath = '$(Split-Path (Split-Path (Get-Module PciPassthrough).Path))' + [System.IO.Path]::PathSeparator + `$env:PSModulePath
Import-Module '$((Get-Module Pester).Path)'
`$r = Invoke-Pester -Container (New-PesterContainer -Path '$(Join-Path $runbooks $Name)' -Data @{ $dataText }) -PassThru -Output None
"result=`$(`$r.PassedCount)|`$(`$r.FailedCount)|`$(`$r.TotalCount)"
`$r.Failed | ForEach-Object { "failed=`$(`$_.ExpandedName)|`$(`$_.ErrorRecord[0].Exception.Message)" }
"@
                $output = & (Get-Process -Id $PID).Path (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File $script 2>&1 | Out-String
                $result = ($output -split "`n" | Where-Object { $_ -like 'result=*' }) -replace '^result=', ''
                [pscustomobject]@{ Result = "$result".Trim(); Output = $output }
            }
            finally {
                [System.IO.Directory]::Delete($work, $true)
            }
        }

        # A guest's QEMU under the fake /proc, holding a file open.
        function New-FakeGuest([string] $Root, [int] $ProcessId, [string] $Name, [string] $File) {
            $proc = Join-Path $Root "proc/$ProcessId"
            New-Item -ItemType Directory -Force -Path (Join-Path $proc 'fd') | Out-Null
            Set-Content -Path (Join-Path $proc 'comm') -Value 'qemu-system-x86'
            [System.IO.File]::WriteAllText((Join-Path $proc 'cmdline'), "/usr/bin/qemu-system-x86_64`0-name`0guest=$Name,debug-threads=on`0")
            New-Item -ItemType SymbolicLink -Path (Join-Path $proc 'fd/20') -Target $File | Out-Null
        }

        $script:vmRoot = New-PciTestRoot
        New-FakeIommuHost -Root $vmRoot
        New-FakePciDevice -Root $vmRoot -Address '0000:01:00.0' -Device '10d3' -Driver 'vfio-pci' -IommuGroup 12
        New-FakePciDevice -Root $vmRoot -Address '0000:02:00.0' -Device '10d3' -Driver 'vfio-pci' -IommuGroup 13
        New-Item -ItemType File -Force -Path (Join-Path $vmRoot 'dev/vfio/12'), (Join-Path $vmRoot 'dev/vfio/13') | Out-Null
        New-Item -ItemType Directory -Force -Path (Join-Path $vmRoot 'run/libvirt/qemu') | Out-Null
        Set-Content -Path (Join-Path $vmRoot 'run/libvirt/qemu/one-42.xml') -Value @"
<domstatus state='running' pid='4242'>
  <domain type='kvm' id='1'>
    <name>one-42</name>
    <devices>
      <hostdev mode='subsystem' type='pci' managed='yes'>
        <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>
      </hostdev>
    </devices>
  </domain>
</domstatus>
"@
    }

    AfterAll {
        Remove-PciTestRoot $vmRoot
    }

    It 'HostReady passes on a ready host and fails where the IOMMU is off' {
        (Invoke-Runbook 'HostReady.Tests.ps1' @{ Root = $root }).Result | Should -Match '^\d+\|0\|\d+$'
        $off = New-PciTestRoot
        try {
            New-FakeIommuHost -Root $off
            [System.IO.Directory]::Delete((Join-Path $off 'sys/class/iommu/dmar0'))
            Set-Content -Path (Join-Path $off 'proc/cmdline') -Value 'ro quiet' -NoNewline
            $r = Invoke-Runbook 'HostReady.Tests.ps1' @{ Root = $off }
            $r.Result | Should -Not -Match '^\d+\|0\|' -Because $r.Output
            $r.Output | Should -BeLike '*failed=supports passthrough*'
        }
        finally {
            Remove-PciTestRoot $off
        }
    }

    It 'DeviceReady passes for a free device on vfio-pci and fails for one a guest holds, naming the domain' {
        (Invoke-Runbook 'DeviceReady.Tests.ps1' @{ Root = $vmRoot; Address = '0000:02:00.0' }).Result | Should -Be '3|0|3'
        New-FakeGuest -Root $vmRoot -ProcessId 4242 -Name 'one-42' -File '/dev/vfio/12'
        $r = Invoke-Runbook 'DeviceReady.Tests.ps1' @{ Root = $vmRoot; Address = '0000:01:00.0' }
        $r.Result | Should -Not -Be '3|0|3'
        $r.Output | Should -BeLike '*failed=no guest holds it*domain one-42 (VM 42*'
    }

    It 'VmHoldsDevices passes while the domain holds its device and fails when it does not' {
        if (-not (Test-Path (Join-Path $vmRoot 'proc/4242'))) { New-FakeGuest -Root $vmRoot -ProcessId 4242 -Name 'one-42' -File '/dev/vfio/12' }
        (Invoke-Runbook 'VmHoldsDevices.Tests.ps1' @{ Root = $vmRoot }).Result | Should -Be '2|0|2'
        [System.IO.File]::Delete((Join-Path $vmRoot 'proc/4242/fd/20'))
        $r = Invoke-Runbook 'VmHoldsDevices.Tests.ps1' @{ Root = $vmRoot; Domain = 'one-42' }
        $r.Result | Should -Be '1|1|2'
        $r.Output | Should -BeLike '*failed=is held by the domain*'
    }
}

AfterAll {
    Remove-PciTestRoot $root
}
