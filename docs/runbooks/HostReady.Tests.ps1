<#
.SYNOPSIS
    Runbook as a Pester test: is this host ready for PCI passthrough?
.DESCRIPTION
    One test per check of Test-IommuSupport: none may fail (a warning passes, with its text in the report).
    Run it as it is on a host, or against a captured tree:
        Invoke-Pester ./HostReady.Tests.ps1 -Output Detailed
        Invoke-Pester -Container (New-PesterContainer -Path ./HostReady.Tests.ps1 -Data @{ Root = '/srv/captures/hv1' })
#>
param(
    # The host root: / for this host, or a captured tree.
    [string] $Root = '/'
)

BeforeDiscovery {
    Import-Module PciPassthrough -ErrorAction Stop
    $checks = @((Test-IommuSupport -Root $Root).Checks | ForEach-Object { @{ Name = $_.Name; Status = "$($_.Status)"; Detail = $_.Detail; Remedy = $_.Remedy } })
}

Describe 'The host is ready for PCI passthrough' {
    It 'supports passthrough (IOMMU, interrupt remapping, vfio)' {
        $report = Test-IommuSupport -Root $Root
        $failed = ($report.Checks | Where-Object { "$($_.Status)" -eq 'Fail' } | ForEach-Object { "$($_.Name): $($_.Remedy)" }) -join '; '
        $report.Supported | Should -BeTrue -Because $failed
    }

    It '<Name> does not fail' -ForEach $checks {
        $Status | Should -Not -Be 'Fail' -Because "$Detail $Remedy"
    }
}
