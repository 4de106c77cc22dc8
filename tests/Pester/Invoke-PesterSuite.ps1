#Requires -Version 7.4
<#
.SYNOPSIS
    Runs every tests/Pester/*.Tests.ps1 against the built module with the pinned Pester.
.DESCRIPTION
    `dotnet test` runs this script in the pinned pwsh (tests/PciPassthrough.Pester.Tests); people with
    pwsh can run it directly after `dotnet build`. It writes an NUnit XML result and a summary line
    ("Pester: N passed, N failed, N skipped"), and exits with the number of failed tests.
.EXAMPLE
    dotnet pwsh tests/Pester/Invoke-PesterSuite.ps1
.EXAMPLE
    dotnet pwsh tests/Pester/Invoke-PesterSuite.ps1 -Path tests/Pester/Iommu.Tests.ps1 -Output Detailed
#>
[CmdletBinding()]
param(
    # The Pester module: the NuGet package's tools/Pester.psd1 by default.
    [string] $PesterModule,
    # The built module folder or manifest.
    [string] $ModulePath = (Join-Path $PSScriptRoot '..' '..' 'out' 'PciPassthrough' 'PciPassthrough.psd1'),
    [string[]] $Path = @(Get-ChildItem -Path $PSScriptRoot -Filter '*.Tests.ps1' | ForEach-Object FullName),
    [string] $ResultPath = (Join-Path $PSScriptRoot '..' '..' 'TestResults' 'pester.xml'),
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Output = 'Normal'
)

$ErrorActionPreference = 'Stop'
if (-not $PesterModule) {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget' 'packages' }
    $PesterModule = Join-Path $packages 'pester' '5.9.1' 'tools' 'Pester.psd1'
}
if (-not (Test-Path -LiteralPath $PesterModule)) {
    throw "Pester is not restored at ${PesterModule}: run 'dotnet build PciPassthrough.sln' (its Pester test project downloads it)."
}
if (-not (Test-Path -LiteralPath $ModulePath)) {
    throw "The module is not built at ${ModulePath}: run 'dotnet build PciPassthrough.sln'."
}

Import-Module $PesterModule -Force
$env:PCIPASSTHROUGH_MODULE = (Resolve-Path -LiteralPath $ModulePath).Path
New-Item -ItemType Directory -Force -Path (Split-Path $ResultPath) | Out-Null

$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = $Output
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultPath
$result = Invoke-Pester -Configuration $config

foreach ($test in $result.Failed) {
    Write-Host "FAILED: $($test.ExpandedPath)"
    Write-Host "  $($test.ErrorRecord | Select-Object -First 1)"
}
foreach ($block in $result.FailedBlocks) {
    Write-Host "FAILED BLOCK: $($block.Path -join '.'): $($block.ErrorRecord | Select-Object -First 1)"
}
"Pester: {0} passed, {1} failed, {2} skipped" -f $result.PassedCount, ($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount), $result.SkippedCount
exit ($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount)
