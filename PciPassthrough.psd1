@{
    # The single source of the module version: Directory.Build.props reads it for the assemblies.
    ModuleVersion        = '0.2.0'
    RootModule           = 'PciPassthrough.dll'
    GUID                 = '6f0a3d51-2f4e-4d8e-9a55-0c2b7f6f3e11'
    Author               = 'PciPassthrough contributors'
    CompanyName          = 'PciPassthrough'
    Copyright            = '(c) 2026 The PciPassthrough contributors. MIT License.'
    Description          = 'Safe, tested cmdlets for PCI passthrough (VFIO) on Linux KVM hosts: device inventory, IOMMU readiness, vfio-pci binding, persistent host configuration and OpenNebula integration.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('PciPassthrough.Format.ps1xml')
    TypesToProcess       = @('PciPassthrough.Types.ps1xml')
    CmdletsToExport      = @(
        'Get-PciDevice'
        'Get-IommuGroup'
        'Get-PciTopology'
        'Reset-PciDevice'
        'Set-PciResetMethod'
        'Test-IommuSupport'
        'Test-PciPassthroughReadiness'
        'Set-VfioBinding'
        'Remove-VfioBinding'
        'Get-PciProbeFilter'
        'Set-PciProbeFilter'
        'Get-VfioHostConfiguration'
        'Set-VfioHostConfiguration'
        'Test-VfioHostConfiguration'
        'New-PciTemplateSection'
        'ConvertFrom-PciTemplateSection'
        'Invoke-PciProbe'
        'Import-PciHostInventory'
        'Find-PciPlacement'
        'ConvertTo-PciHostdevXml'
        'Get-PciVirtualFunction'
        'Set-PciVirtualFunctionCount'
        'Set-PciVirtualFunction'
        'New-PciHostFilter'
        'Test-PciAssignment'
        'Get-MediatedDeviceType'
        'Get-MediatedDevice'
        'New-MediatedDevice'
        'Remove-MediatedDevice'
        'Test-MediatedDeviceConfiguration'
        'Get-PciVgpuType'
        'Set-PciVgpuType'
        'Clear-PciVgpuType'
        'Enable-PciVgpuVirtualFunction'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('PSEdition_Core', 'Linux', 'PCI', 'VFIO', 'IOMMU', 'OpenNebula', 'KVM', 'Passthrough')
            ProjectUri   = 'https://github.com/PciPassthrough/PciPassthrough'
            LicenseUri   = 'https://github.com/PciPassthrough/PciPassthrough/blob/main/LICENSE'
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
