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

    It "refuses SHORT_ADDRESS with VENDOR with OpenNebula's message" {
        { New-PciTemplateSection -ShortAddress '04:00.0' -VendorId '10de' } | Should -Throw '*SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS*'
    }
}
