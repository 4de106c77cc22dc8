<#
.SYNOPSIS
    Runbook as a Pester test: is each device meant for a guest ready for one, now?
.DESCRIPTION
    The devices are those given by -Address or -Filter, or by default every device bound to vfio-pci. For each: a guest
    can take it now (Test-PciPassthroughReadiness's ReadyNow), no finding fails, and no process holds it, or the
    holder is named (a device a guest already uses is not free for another).
        Invoke-Pester ./DeviceReady.Tests.ps1 -Output Detailed
        Invoke-Pester -Container (New-PesterContainer -Path ./DeviceReady.Tests.ps1 -Data @{ Filter = '10de:*' })
#>
param(
    # The host root: / for this host, or a captured tree.
    [string] $Root = '/',
    # Devices by address (DDDD:BB:SS.F).
    [string[]] $Address = @(),
    # Devices by lspci -d filter; without -Address or -Filter, every device on vfio-pci.
    [string[]] $Filter = @()
)

BeforeDiscovery {
    Import-Module PciPassthrough -ErrorAction Stop
    $devices = if ($Address) { Get-PciDevice -Root $Root -Address $Address }
               elseif ($Filter) { Get-PciDevice -Root $Root -Filter $Filter }
               else { Get-PciDevice -Root $Root | Where-Object Driver -eq 'vfio-pci' }
    $cases = @($devices | ForEach-Object { @{ PciAddress = $_.PciAddress; DeviceName = $_.DeviceName } })
}

Describe '<PciAddress> (<DeviceName>) is ready for a guest' -ForEach $cases {
    BeforeAll {
        $readiness = Test-PciPassthroughReadiness -Root $Root -Address $PciAddress
    }

    It 'a guest can take it now' {
        $todo = ($readiness.Findings | Where-Object { "$($_.Status)" -in 'Fail', 'Warning' } | ForEach-Object { "$($_.Name): $($_.Remedy)" }) -join '; '
        $readiness.ReadyNow | Should -BeTrue -Because $todo
    }

    It 'no finding fails' {
        $readiness.Findings | Where-Object { "$($_.Status)" -eq 'Fail' } | ForEach-Object { "$($_.Name): $($_.Detail)" } | Should -BeNullOrEmpty
    }

    It 'no guest holds it, and whether one does is known' {
        $device = Get-PciDevice -Root $Root -Address $PciAddress
        "$($device.Usage)" | Should -Be 'NotInUse' -Because ("held by " + (($device.InUse | ForEach-Object ToString) -join ', ') + " (Unknown: run as root)")
    }
}
