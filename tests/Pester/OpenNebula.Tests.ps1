#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
}

Describe 'Template sections' {
    It 'renders by vendor, device and class and parses back' {
        $section = New-PciTemplateSection -VendorId '10de' -DeviceId '1eb8' -Class '0302'
        $text = $section.ToString()
        $text | Should -BeLike 'PCI = `[*VENDOR = "10de"*'
        $back = ConvertFrom-PciTemplateSection -Template $text
        $back.VendorId | Should -Be '10de'
        $back.DeviceId | Should -Be '1eb8'
    }

    It 'writes the guest attributes ROOT, ACPI_NODES, VM_BUS, IOMMUFD and PROFILE, and reads them back' {
        $s = New-PciTemplateSection -Class 0302 -RootMode DEDICATED -AcpiNodes '0,2-3' -VmBus 0x06 -Iommufd -Profile nvidia-559
        "$s" | Should -BeExactly 'PCI = [ CLASS = "0302", ROOT = "dedicated", ACPI_NODES = "0,2-3", VM_BUS = "0x06", IOMMUFD = "YES", PROFILE = "nvidia-559" ]'
        $back = ConvertFrom-PciTemplateSection -Template "$s"
        $back.IsDedicatedRoot | Should -BeTrue
        $back.UsesIommufd | Should -BeTrue
        $back.Profile | Should -BeExactly 'nvidia-559'
    }

    It "refuses a bad ROOT, ACPI_NODES or VM_BUS with OpenNebula's message" -ForEach @(
        @{ Splat = @{ RootMode = 'exclusive' }; Message = 'Unknown PCI root mode, has to be SHARED or DEDICATED' }
        @{ Splat = @{ AcpiNodes = '0,,1' }; Message = 'Invalid nodeset specification in ACPI_NODES' }
        @{ Splat = @{ VmBus = 'bus6' }; Message = 'Wrong VM_BUS in PCI attribute' }
    ) {
        $e = { New-PciTemplateSection -Class 0302 @Splat } | Should -Throw -ErrorId 'InvalidPciTemplateSection,*' -PassThru
        $e.Exception.Message | Should -BeExactly $Message
    }

    It "refuses SHORT_ADDRESS with VENDOR with OpenNebula's message" {
        { New-PciTemplateSection -ShortAddress '04:00.0' -VendorId '10de' } | Should -Throw '*SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS*'
    }
}
