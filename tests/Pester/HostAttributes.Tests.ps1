#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# New-PciHostFilter as a user types it, against a fake host tree.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:hv = New-PciTestRoot
    New-FakePciDevice -Root $hv -Address 0000:01:00.0 -Vendor 10de -Device 2330 -Class 030200 -Driver vfio-pci -IommuGroup 1
    New-FakePciDevice -Root $hv -Address 0000:02:00.0 -Vendor 8086 -Device 1520 -Driver vfio-pci -IommuGroup 2
    New-FakePciDevice -Root $hv -Address 0000:03:00.0 -Vendor 8086 -Device 100e -Driver e1000 -IommuGroup 3
    New-FakePciDevice -Root $hv -Address 0000:04:00.0 -Vendor 10de -Device 2330 -Class 030200 -Driver nvidia -IommuGroup 4
    $script:empty = New-PciTestRoot
    New-FakePciDevice -Root $empty -Address 0000:03:00.0 -Driver e1000 -IommuGroup 3
}

AfterAll {
    Remove-PciTestRoot $hv
    Remove-PciTestRoot $empty
}

Describe 'New-PciHostFilter' {
    It 'computes both attributes from the devices on vfio-pci and prints the onehost update text' {
        $f = New-PciHostFilter -Root $hv -HostName hv1
        $f.PciShortAddress | Should -BeExactly '01:00.0,02:00.0'
        $f.PciFilter | Should -BeExactly '10de:2330,8086:1520'
        $f.Template | Should -BeExactly "PCI_FILTER = `"10de:2330,8086:1520`"`nPCI_SHORT_ADDRESS = `"01:00.0,02:00.0`"`n"
        $f.Command | Should -BeExactly 'onehost update hv1 --append pci-filter.txt'
        "$f" | Should -BeExactly $f.Template
        ($f | Format-Table | Out-String) | Should -Match 'hv1\s+2\s+10de:2330,8086:1520\s+01:00.0,02:00.0'
    }

    It 'takes piped devices instead' {
        $f = Get-PciDevice -Root $hv -Filter '10de:' | New-PciHostFilter -Root $hv
        $f.PciAddresses | Should -Be @('0000:01:00.0', '0000:04:00.0')
        $f.PciFilter | Should -BeExactly '10de:2330'
    }

    It 'the attributes keep exactly those devices in an imported onehost inventory' {
        $f = New-PciHostFilter -Root $hv
        $xml = '<HOST><ID>3</ID><NAME>hv1</NAME><HOST_SHARE><PCI_DEVICES>' + ((1..4 | ForEach-Object {
            $v, $d, $c = if ($_ -in 1, 4) { '10de', '2330', '0302' } elseif ($_ -eq 2) { '8086', '1520', '0200' } else { '8086', '100e', '0200' }
            "<PCI><ADDRESS>0000:0$($_):00:0</ADDRESS><VENDOR>$v</VENDOR><DEVICE>$d</DEVICE><CLASS>$c</CLASS><VMID>-1</VMID></PCI>"
        }) -join '') + '</PCI_DEVICES></HOST_SHARE></HOST>'
        $inventory = Import-PciHostInventory -Xml $xml -PciFilter $f.PciFilter -PciShortAddress $f.PciShortAddress
        $inventory.Devices.PciAddress | Should -Be @('0000:01:00.0', '0000:02:00.0')
    }

    It 'refuses to compute empty attributes, with a recommended action' {
        { New-PciHostFilter -Root $empty } | Should -Throw -ErrorId 'NoPassthroughDevices,PciPassthrough.PowerShell.Commands.NewPciHostFilterCommand'
        try { New-PciHostFilter -Root $empty } catch { $_.ErrorDetails.RecommendedAction | Should -BeLike '*Set-VfioBinding*' }
    }

    It 'reports a device that does not exist' {
        { New-PciHostFilter -Root $hv -Address 0000:09:00.0 } | Should -Throw -ErrorId 'PciDeviceNotFound,*'
    }
}
