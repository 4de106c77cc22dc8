#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests or cleans PciPassthrough. A thin wrapper over the dotnet CLI for people with pwsh.
.EXAMPLE
    ./build.ps1                      # Build: assembles ./out/PciPassthrough, help included
.EXAMPLE
    ./build.ps1 -Task Test           # xunit (all of it), then Pester 5 when it is installed
.EXAMPLE
    ./build.ps1 -Task Clean
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Clean')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$solution = Join-Path $PSScriptRoot 'PciPassthrough.sln'
$moduleDir = Join-Path $PSScriptRoot 'out' 'PciPassthrough'

function Invoke-Native {
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE"
    }
}

switch ($Task) {
    'Build' {
        # dotnet build also writes the help (en-US) with tools/HelpBuilder.
        Invoke-Native dotnet @('build', $solution, '--configuration', $Configuration)
        $platyPS = Get-Module -ListAvailable platyPS | Where-Object { $_.Version.Major -eq 0 } | Sort-Object Version -Descending | Select-Object -First 1
        if ($platyPS) {
            # Where PlatyPS 0.x is installed, its New-ExternalHelp writes the same files from the same
            # pages: the cmdlet pages and the about topics (not the module page).
            Import-Module $platyPS
            $pages = Get-ChildItem -Path (Join-Path $PSScriptRoot 'docs' 'en-US') -Filter '*.md' |
                Where-Object { $_.Name -like 'about_*' -or (Select-String -Path $_.FullName -Pattern '^external help file:' -Quiet) }
            New-ExternalHelp -Path $pages.FullName -OutputPath (Join-Path $moduleDir 'en-US') -Force | Out-Null
            Write-Host "Help: written by platyPS $($platyPS.Version)"
        }
        Write-Host "Module: $moduleDir"
    }
    'Test' {
        Invoke-Native dotnet @('test', $solution, '--configuration', $Configuration)
        $pester = Get-Module -ListAvailable Pester | Where-Object { $_.Version.Major -ge 5 } | Select-Object -First 1
        $pesterTests = @(Get-ChildItem -Path (Join-Path $PSScriptRoot 'tests') -Filter '*.Tests.ps1' -Recurse)
        if (-not $pester) {
            Write-Warning 'Pester 5 is not installed: the Pester tests were skipped (Install-Module Pester -MinimumVersion 5.0).'
        }
        elseif ($pesterTests.Count -gt 0) {
            Import-Module $pester
            $env:PCIPASSTHROUGH_MODULE = $moduleDir
            $config = New-PesterConfiguration
            $config.Run.Path = $pesterTests.FullName
            $config.Run.Exit = $false
            $config.Run.PassThru = $true
            $config.Output.Verbosity = 'Detailed'
            $result = Invoke-Pester -Configuration $config
            if ($result.FailedCount -gt 0) {
                throw "$($result.FailedCount) Pester test(s) failed."
            }
        }
    }
    'Clean' {
        Invoke-Native dotnet @('clean', $solution, '--configuration', $Configuration)
        if (Test-Path $moduleDir) {
            Remove-Item -Recurse -Force $moduleDir
        }
    }
}
