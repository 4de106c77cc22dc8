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

Describe 'Test-PciAssignment' {
    BeforeAll {
        $script:drift = New-PciTestRoot
        foreach ($g in 1, 2, 3) {
            New-FakePciDevice -Root $drift -Address "0000:0$($g):00.0" -Vendor 10de -Device 2330 -Class 030200 -Driver vfio-pci -IommuGroup $g
            New-Item -ItemType File -Force -Path (Join-Path $drift "dev/vfio/$g") | Out-Null
        }
        # A QEMU that OpenNebula started for VM 9, holding group 2 (the books say the device is free).
        $proc = Join-Path $drift 'proc/4242'
        New-Item -ItemType Directory -Force -Path (Join-Path $proc 'fd') | Out-Null
        Set-Content -Path (Join-Path $proc 'comm') -Value 'qemu-kvm-one'
        [System.IO.File]::WriteAllText((Join-Path $proc 'cmdline'), "qemu`0-name`0guest=one-9,debug-threads=on`0")
        New-Item -ItemType SymbolicLink -Path (Join-Path $proc 'fd/17') -Target '/dev/vfio/2' | Out-Null
        $script:books = @'
<HOST_POOL>
<HOST><ID>4</ID><NAME>hv1</NAME><HOST_SHARE><PCI_DEVICES>
  <PCI><ADDRESS>0000:01:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>7</VMID></PCI>
  <PCI><ADDRESS>0000:02:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
  <PCI><ADDRESS>0000:03:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
</PCI_DEVICES></HOST_SHARE></HOST>
<HOST><ID>5</ID><NAME>hv2</NAME><HOST_SHARE><PCI_DEVICES/></HOST_SHARE></HOST>
</HOST_POOL>
'@
    }

    AfterAll { Remove-PciTestRoot $drift }

    It 'reports each mismatch with what to do, and the consistent devices with -All' {
        $r = Import-PciHostInventory -Xml $books | Test-PciAssignment -HostName hv1 -Root $drift
        $r | ForEach-Object { "$($_.PciAddress) $($_.State) $($_.Status)" } | Should -Be @('0000:01:00.0 ReservedNotHeld Warning', '0000:02:00.0 HeldByUnrecordedVm Fail')
        $r[1].HeldBy.VmId | Should -Be 9
        $r[1].RecommendedAction | Should -BeLike '*onedb fsck*'
        ($r | Format-Table | Out-String) | Should -Match 'HeldByUnrecordedVm\s+-1\s+one-9'
        (Import-PciHostInventory -Xml $books | Test-PciAssignment -HostName 4 -All -Root $drift).Count | Should -Be 3
    }

    It 'refuses two hosts without -HostName, and a name that matches none' {
        { Import-PciHostInventory -Xml $books | Test-PciAssignment -Root $drift } | Should -Throw -ErrorId 'AmbiguousHostInventory,*'
        { Import-PciHostInventory -Xml $books | Test-PciAssignment -HostName nope -Root $drift } | Should -Throw -ErrorId 'HostNotInInventory,*'
    }
}
