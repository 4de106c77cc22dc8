#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# "What the probe reports" has one rule set: Get-PciDevice -ProbeFilterPath lists exactly the devices
# whose blocks Invoke-PciProbe prints, for every pci.conf. The expected lists follow pci.rb's source
# (opennebula.md §2): exact short addresses, names as lspci prints them, NVIDIA vGPU parents and
# PFs with VFs left out, entries concatenated.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:root = New-PciTestRoot
    New-FakePciDevice -Root $root -Address '0000:00:1f.3' -Vendor 'abab' -Device '7777' -Class '040300'
    New-FakePciDevice -Root $root -Address '0000:1a:00.0' -Vendor '8086' -Device '1521' -Class '020000' -Driver 'igb'
    New-FakePciDevice -Root $root -Address '0000:3b:00.0' -Vendor '10de' -Device '20b5' -Class '030200' -Driver 'nvidia'
    New-FakePciDevice -Root $root -Address '0000:3b:00.4' -Vendor '10de' -Device '20b5' -Class '030200' -Driver 'nvidia'
    New-FakePciDevice -Root $root -Address '0000:5e:00.0' -Vendor '8086' -Device '1572' -Class '020000' -Driver 'i40e'
    New-FakePciDevice -Root $root -Address '0001:00:00.0' -Vendor '8086' -Device '0a54' -Class '010802' -Driver 'nvme'
    # 3b:00.0 is a vGPU-capable parent (virtfn0), 3b:00.4 its VF; 5e:00.0 a PF with VFs enabled.
    New-Item -ItemType SymbolicLink -Path (Join-Path $root 'sys/devices/pci0000:3b/0000:3b:00.0/virtfn0') -Target '../0000:3b:00.4' | Out-Null
    New-Item -ItemType SymbolicLink -Path (Join-Path $root 'sys/devices/pci0000:3b/0000:3b:00.4/physfn') -Target '../0000:3b:00.0' | Out-Null
    Set-Content -NoNewline -Path (Join-Path $root 'sys/devices/pci0000:5e/0000:5e:00.0/sriov_numvfs') -Value "4`n"
    Set-Content -NoNewline -Path (Join-Path $root 'sys/devices/pci0000:5e/0000:5e:00.0/sriov_totalvfs') -Value "64`n"
    New-Item -ItemType Directory -Force -Path (Join-Path $root 'usr/share/misc') | Out-Null
    Set-Content -NoNewline -Path (Join-Path $root 'usr/share/misc/pci.ids') -Value (
        "10de  NVIDIA Corporation`n`t20b5  GA100 [A100 PCIe 80GB]`n8086  Intel Corporation`n`t0a54  NVMe Datacenter SSD`n" +
        "`t1521  I350 Gigabit Network Connection`n`t1572  Ethernet Controller X710 for 10GbE SFP+`n")
    $script:conf = Join-Path $root 'pci.conf'
}

AfterAll {
    Remove-PciTestRoot $root
}

Describe 'Get-PciDevice -ProbeFilterPath and Invoke-PciProbe select the same devices' {
    It '<Yaml>' -TestCases @(
        @{ Yaml = ":filter: '*:*'"; Expected = @('0000:00:1f.3', '0000:1a:00.0', '0000:3b:00.4', '0001:00:00.0') }
        @{ Yaml = ":filter: []"; Expected = @() }
        @{ Yaml = ":filter: ''"; Expected = @() }
        @{ Yaml = ":filter: '0:0'"; Expected = @() }
        @{ Yaml = ":filter: '*:*'`n:short_address: ['1A:00.0']"; Expected = @() }
        @{ Yaml = ":filter: '*:*'`n:short_address: ['1a:00.0', '0001:00:00.0']"; Expected = @('0000:1a:00.0', '0001:00:00.0') }
        @{ Yaml = ":filter: '*:*'`n:short_address: ['00:00.0']"; Expected = @() }
        @{ Yaml = ":filter: '*:*'`n:device_name: ['7777']"; Expected = @() }
        @{ Yaml = ":filter: '*:*'`n:device_name: ['^Device$']"; Expected = @('0000:00:1f.3') }
        @{ Yaml = ":filter: '*:*'`n:device_name: ['a100', 'i350']"; Expected = @('0000:1a:00.0', '0000:3b:00.4') }
        @{ Yaml = ":filter: '10de:*,8086:1521'"; Expected = @('0000:3b:00.4', '0000:1a:00.0') }
        @{ Yaml = ":filter: ['8086:*', '*:*:0200']"; Expected = @('0000:1a:00.0', '0001:00:00.0', '0000:1a:00.0') }
        @{ Yaml = ":filter: '10de:*'`n:nvidia_vendors: []"; Expected = @('0000:3b:00.0', '0000:3b:00.4') }
        @{ Yaml = ":filter: '*:*:0108'"; Expected = @('0001:00:00.0') }
    ) {
        Set-Content -NoNewline -Path $conf -Value "$Yaml`n"
        $probed = @(Invoke-PciProbe -Root $root -ConfigurationPath $conf | ForEach-Object {
                if ($_ -match 'ADDRESS = "([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2}):([0-7])"') { '{0}:{1}:{2}.{3}' -f $Matches[1], $Matches[2], $Matches[3], $Matches[4] }
            })
        $listed = @(Get-PciDevice -Root $root -ProbeFilterPath $conf).PciAddress

        $probed | Should -Be $Expected
        # Get-PciDevice lists each device once, in lspci's order.
        $listed | Should -Be @($Expected | Sort-Object -Unique)
    }
}

Describe 'Regular expressions that run away' {
    BeforeEach {
        # A name on which nested repetition explodes in a backtracking engine.
        New-FakePciDevice -Root $root -Address '0000:ee:00.0' -Vendor 'ee00' -Device '0001' -Class 'ff0000'
        $script:ids = Join-Path $root 'usr/share/misc/pci.ids'
        $script:idsBefore = Get-Content -Raw $ids
        Add-Content -NoNewline -Path $ids -Value ("ee00  Slow`n`t0001  " + ('a ' * 40) + "!`n")
    }
    AfterEach {
        Remove-Item (Join-Path $root 'sys/bus/pci/devices/0000:ee:00.0')
        Set-Content -NoNewline -Path $ids -Value $idsBefore
    }

    It 'nested repetition runs in linear time (D18): the call completes with the right answer' {
        @(Get-PciDevice -Root $root -DeviceName '^(\w+\s?)*$').PciAddress | Should -Not -Contain '0000:ee:00.0'
        @(Get-PciDevice -Root $root -DeviceName '^(\w+\s?)*!$').PciAddress | Should -Be '0000:ee:00.0'
    }

    It '<Command> ends with DeviceNamePatternTimeout, not a bare exception, for a pattern only backtracking can run' -TestCases @(
        @{ Command = 'Get-PciDevice'; Call = { Get-PciDevice -Root $root -DeviceName '^(\w+\s?)*\1$' }; Id = 'DeviceNamePatternTimeout,PciPassthrough.PowerShell.Commands.GetPciDeviceCommand' }
        @{ Command = 'Invoke-PciProbe'; Call = { Invoke-PciProbe -Root $root -Filter '*:*' -DeviceName '^(\w+\s?)*\1$' }; Id = 'DeviceNamePatternTimeout,PciPassthrough.PowerShell.Commands.InvokePciProbeCommand' }
    ) {
        # A backreference needs the backtracking engine, which has 2 s for the whole call.
        $Call | Should -Throw -ErrorId $Id
    }
}
