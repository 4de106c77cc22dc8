#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests or cleans PciPassthrough. A thin wrapper over the dotnet CLI for people with pwsh.
.EXAMPLE
    ./build.ps1                      # Build: assembles ./out/PciPassthrough, help included
.EXAMPLE
    ./build.ps1 -Task Test           # dotnet test: xunit and the Pester suite in the pinned pwsh
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
        # The Pester suite runs inside dotnet test, in the pinned pwsh with the pinned Pester.
        Invoke-Native dotnet @('test', $solution, '--configuration', $Configuration)
    }
    'Clean' {
        Invoke-Native dotnet @('clean', $solution, '--configuration', $Configuration)
        if (Test-Path $moduleDir) {
            Remove-Item -Recurse -Force $moduleDir
        }
    }
}
