#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
}

Describe 'Set-PciProbeFilter and Get-PciProbeFilter' {
    BeforeEach {
        $script:conf = Join-Path $TestDrive 'pci.conf'
        Set-Content -Path $conf -Value "# keep me`n:filter: '0:0'`n" -NoNewline
    }

    It 'writes only the keys given and keeps comments' {
        Set-PciProbeFilter -Path $conf -Filter '10de:*' -Confirm:$false | Select-Object -ExpandProperty Action | Should -Be 'Updated'
        (Get-PciProbeFilter -Path $conf).Filter | Should -Be '10de:*'
        Get-Content -Path $conf -TotalCount 1 | Should -Be '# keep me'
    }

    It '-WhatIf writes nothing' {
        Set-PciProbeFilter -Path $conf -Filter '*:*' -WhatIf
        (Get-PciProbeFilter -Path $conf).Filter | Should -Be '0:0'
    }

    It 'refuses a malformed filter with InvalidPciFilter' {
        { Set-PciProbeFilter -Path $conf -Filter '10de' -Confirm:$false } |
            Should -Throw -ErrorId 'InvalidPciFilter,PciPassthrough.PowerShell.Commands.SetPciProbeFilterCommand'
    }
}

Describe 'Set-VfioHostConfiguration' {
    BeforeAll {
        $script:root = New-PciTestRoot
        New-FakeIommuHost -Root $root
        New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
        New-Item -ItemType Directory -Force -Path (Join-Path $root 'etc/modprobe.d') | Out-Null
    }

    AfterAll {
        Remove-PciTestRoot $root
    }

    It '-WhatIf writes nothing' {
        Set-VfioHostConfiguration -Root $root -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None -WhatIf
        Join-Path $root 'etc/modprobe.d/pcipassthrough-vfio.conf' | Should -Not -Exist
    }

    It 'writes the softdep, and a second run changes nothing' {
        (Set-VfioHostConfiguration -Root $root -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None -Confirm:$false).Action | Should -Be 'Created'
        (Set-VfioHostConfiguration -Root $root -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None -Confirm:$false).Action | Should -Be 'Unchanged'
        Get-Content (Join-Path $root 'etc/modprobe.d/pcipassthrough-vfio.conf') | Should -Contain 'softdep nvidia pre: vfio-pci'
    }
}
