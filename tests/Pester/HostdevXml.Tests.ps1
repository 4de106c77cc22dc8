#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# The hostdev elements the module writes, checked by libvirt's own schema (virt-xml-validate, Debian
# package libvirt-clients) inside a minimal domain document, as libvirt would read them.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:validator = Get-Command virt-xml-validate -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $script:work = New-PciTestRoot

    # onehost show -x of a host with a GPU per NUMA node, a NIC VF and two NVIDIA vGPUs (legacy and nvidia mode).
    $script:hostXml = @'
<HOST><ID>5</ID><NAME>gpu</NAME><HOST_SHARE><PCI_DEVICES>
  <PCI><ADDRESS>0000:04:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><NUMA_NODE>0</NUMA_NODE><VMID>-1</VMID></PCI>
  <PCI><ADDRESS>0000:84:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><NUMA_NODE>1</NUMA_NODE><VMID>-1</VMID></PCI>
  <PCI><ADDRESS>0000:41:00:4</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2237</DEVICE><CLASS>0302</CLASS><UUID>e4042b96-e63d-56cf-bcc8-4e6eecccc12e</UUID><MDEV_MODE>legacy</MDEV_MODE><VMID>-1</VMID></PCI>
  <PCI><ADDRESS>0000:41:00:5</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2238</DEVICE><CLASS>0302</CLASS><UUID>5bbb7bbc-4d62-5e7d-8a3e-1c8d0a3b7f11</UUID><MDEV_MODE>nvidia</MDEV_MODE><VMID>-1</VMID></PCI>
  <PCI><ADDRESS>0000:81:00:1</ADDRESS><VENDOR>15b3</VENDOR><DEVICE>101e</DEVICE><CLASS>0200</CLASS><NUMA_NODE>1</NUMA_NODE><MDEV_MODE>nvidia</MDEV_MODE><VMID>-1</VMID></PCI>
</PCI_DEVICES></HOST_SHARE></HOST>
'@
    $script:vm = @'
PCI = [ DEVICE = "2330" ]
PCI = [ DEVICE = "2237" ]
PCI = [ DEVICE = "2238", VM_BUS = "0x06" ]
PCI = [ TYPE = "NIC", NETWORK = "ib", VENDOR = "15b3" ]
PCI = [ DEVICE = "2330", ROOT = "dedicated" ]
'@

    # libvirt's schema learnt <driver iommufd='yes'/> and <acpi nodeset=.../> in releases after Debian 12's 9.0.
    $schema = Get-ChildItem /usr/share/libvirt/schemas/domaincommon.rng -ErrorAction SilentlyContinue | Get-Content -Raw
    $script:schemaHasIommufd = $schema -match 'iommufd'
    $script:schemaHasAcpiNodeset = $schema -match '<attribute name="nodeset">[\s\S]{0,200}</attribute>[\s\S]{0,100}</element>\s*</define>' -and $schema -match 'define name="acpi"[\s\S]{0,400}nodeset'

    function Test-DomainXml {
        param([string[]] $Hostdev, [string[]] $Controller = @(), [string] $Machine = 'q35', [int[]] $NumaCell = @())
        $file = Join-Path $work "domain-$([guid]::NewGuid().ToString('n')).xml"
        $devices = (@($Controller) + @($Hostdev) | ForEach-Object { $_ }) -join "`n"
        # pcie-expander-bus controllers name a guest NUMA node: the domain then needs those cells.
        $cpu = if ($NumaCell) {
            $cells = ($NumaCell | ForEach-Object { "<cell id='$_' cpus='$_' memory='524288' unit='KiB'/>" }) -join ''
            "<vcpu>$($NumaCell.Count)</vcpu><cpu><numa>$cells</numa></cpu>"
        }
        Set-Content -Path $file -Value @"
<domain type='kvm'>
  <name>one-7</name>
  <memory unit='KiB'>1048576</memory>
  $cpu
  <os><type arch='x86_64' machine='$Machine'>hvm</type></os>
  <devices>
$devices
  </devices>
</domain>
"@
        $output = & $validator.Source $file domain 2>&1 | Out-String
        [pscustomobject]@{ Valid = $LASTEXITCODE -eq 0; Output = $output }
    }
}

AfterAll {
    Remove-PciTestRoot $work
}

Describe 'ConvertTo-PciHostdevXml against libvirt''s schema' {
    BeforeEach {
        if (-not $validator) {
            if ($env:CI -eq 'true') { throw 'virt-xml-validate is missing: apt-get install libvirt-clients (.ci/run does this).' }
            Set-ItResult -Skipped -Because 'virt-xml-validate is not installed (apt-get install libvirt-clients)'
        }
    }

    It 'a PCI hostdev validates as part of a domain' {
        $r = Test-DomainXml -Hostdev (ConvertTo-PciHostdevXml -Address 0000:01:00.0, 0001:af:1f.7)
        $r.Output | Should -BeLike '*validates*'
        $r.Valid | Should -BeTrue
    }

    It 'an mdev hostdev validates as part of a domain' {
        $r = Test-DomainXml -Hostdev (ConvertTo-PciHostdevXml -Uuid '5bbb7bbc-4d62-5e7d-8a3e-1c8d0a3b7f11')
        $r.Output | Should -BeLike '*validates*'
        $r.Valid | Should -BeTrue
    }

    It 'the schema check itself rejects a broken hostdev (the oracle can fail)' {
        $r = Test-DomainXml -Hostdev "<hostdev mode='subsystem' type='pci'><source><address bus='zz'/></source></hostdev>"
        $r.Output | Should -BeLike "*fails to validate*"
        $r.Valid | Should -BeFalse
    }

    It 'a pc placement''s hostdevs (guest address, managed=''no'', mdev) validate' {
        $sections = ConvertFrom-PciTemplateSection -Template $vm
        $p = Import-PciHostInventory -Xml $hostXml | Find-PciPlacement -Section $sections -Machine pc
        $xml = $p.Assignments | ConvertTo-PciHostdevXml
        $xml.Count | Should -Be 5
        $xml[0] | Should -BeLike "*<address type='pci' domain='0x0000' bus='0x01' slot='0x01' function='0'/>*"
        # MDEV_MODE nvidia: the PCI form with managed='no', as LibVirtDriverKVM writes it even with a UUID.
        $xml[2] | Should -BeLike "<hostdev mode='subsystem' type='pci' managed='no'>*bus='0x41' slot='0x00' function='0x5'*bus='0x06' slot='0x03'*"
        $xml[3] | Should -BeLike "<hostdev mode='subsystem' type='pci' managed='no'>*"
        $p.Controllers.Count | Should -Be 0
        $r = Test-DomainXml -Hostdev $xml -Machine pc
        $r.Output | Should -BeLike '*validates*'
        $r.Valid | Should -BeTrue
    }

    It 'a q35 placement''s hostdevs validate with its pcie-root-port controllers' {
        $p = Import-PciHostInventory -Xml $hostXml | Find-PciPlacement -Section (ConvertFrom-PciTemplateSection -Template $vm) -Machine q35
        $xml = $p.Assignments | ConvertTo-PciHostdevXml
        # set_pci_address on q35: bus PCI_ID + 1, slot 0, which C++'s showbase prints as 0000.
        $xml[4] | Should -BeLike "*<address type='pci' domain='0x0000' bus='0x05' slot='0000' function='0'/>*"
        $p.Controllers.Model | Should -Be (@('pcie-root') + @('pcie-root-port') * 16 + @('pcie-to-pci-bridge'))
        $r = Test-DomainXml -Hostdev $xml -Controller ($p.Controllers | ForEach-Object ToXml)
        $r.Output | Should -BeLike '*validates*'
        $r.Valid | Should -BeTrue
    }

    It 'a NUMA-pinned q35 placement validates with its pcie-expander-bus controllers' {
        $p = Import-PciHostInventory -Xml $hostXml | Find-PciPlacement -Section (ConvertFrom-PciTemplateSection -Template $vm) -Machine q35 -NumaNode 0, 1
        $p.CanHost | Should -BeTrue
        ($p.Controllers | Where-Object Model -EQ 'pcie-expander-bus').NumaNode | Should -Be @('0', '1', '1')
        # set_pci_address: 04:00.0 node 0 -> port 3 + 1 = 4; the vGPUs have no NUMA node (flat); 81:00.1
        # node 1 -> 3 + 9 + 1 = 13; the dedicated 84:00.0 -> 3 + 2 * 9 + 1 = 22.
        $p.Assignments | ForEach-Object { "$($_.VmBusIndex)" } | Should -Be @('4', '', '', '13', '22')
        $r = Test-DomainXml -Hostdev ($p.Assignments | ConvertTo-PciHostdevXml) -Controller ($p.Controllers | ForEach-Object ToXml) -NumaCell 0, 1
        $r.Output | Should -BeLike '*validates*'
        $r.Valid | Should -BeTrue
    }

    It 'iommufd and acpi nodeset validate where libvirt''s schema knows them' {
        if (-not ($schemaHasIommufd -and $schemaHasAcpiNodeset)) {
            Set-ItResult -Skipped -Because 'the installed libvirt schema has no <driver iommufd> or <acpi nodeset> (libvirt 9.0 on Debian 12)'
            return
        }
        $xml = ConvertFrom-PciTemplateSection -Template 'PCI = [ SHORT_ADDRESS = "04:00.0", IOMMUFD = "yes", ACPI_NODES = "0-1" ]' | ConvertTo-PciHostdevXml
        $r = Test-DomainXml -Hostdev $xml
        $r.Output | Should -BeLike '*validates*'
        $r.Valid | Should -BeTrue
    }

    It 'the schema check itself rejects a hostdev with iommufd where the schema predates it (the oracle can fail)' {
        if ($schemaHasIommufd) {
            Set-ItResult -Skipped -Because 'the installed libvirt schema knows iommufd'
            return
        }
        $xml = ConvertFrom-PciTemplateSection -Template 'PCI = [ SHORT_ADDRESS = "04:00.0", IOMMUFD = "yes" ]' | ConvertTo-PciHostdevXml
        $xml | Should -BeLike "*<driver iommufd='yes'/>*"
        (Test-DomainXml -Hostdev $xml).Valid | Should -BeFalse
    }
}
