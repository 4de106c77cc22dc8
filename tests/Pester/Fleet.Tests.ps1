#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# The module across a fleet as users reach it: PowerShell remoting over a real OpenSSH sshd on
# 127.0.0.1 (its own port, host key and authorized key; the powershell subsystem runs the pinned
# pwsh). Two host names, hv1 and hv2, both reach that sshd through ssh's HostName option, so the
# objects come back as they would from two hypervisors.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:modulePath = (Get-Module PciPassthrough).Path
    $script:work = New-PciTestRoot
    $script:root = Join-Path $work 'host'
    New-FakeIommuHost -Root $root
    New-FakePciDevice -Root $root -Address '0000:00:1f.2' -Vendor '8086' -Device '2922' -Class '010601' -Driver 'ahci' -IommuGroup 5
    New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
    New-FakePciDevice -Root $root -Address '0000:02:00.0' -Vendor '8086' -Device '1521' -Class '020000' -Driver 'igb' -IommuGroup 7

    $script:skipReason = $null
    $sshd = Get-Command sshd -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $sshd) { $script:skipReason = 'sshd is not installed (apt-get install openssh-server)' }
    elseif ((& id -u) -ne '0') { $script:skipReason = 'starting sshd for the remoting test needs root' }
    if ($skipReason) {
        if ($env:CI -eq 'true') { throw "The fleet test cannot run under CI: $skipReason." }
        return
    }

    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $work 'host_key')
    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $work 'client_key')
    Copy-Item (Join-Path $work 'client_key.pub') (Join-Path $work 'authorized_keys')
    & chmod 600 (Join-Path $work 'client_key')
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $script:port = $listener.LocalEndpoint.Port
    $listener.Stop()
    $dotnet = (Get-Process -Id $PID).Path
    Set-Content -Path (Join-Path $work 'sshd_config') -Value @"
Port $port
ListenAddress 127.0.0.1
HostKey $(Join-Path $work 'host_key')
AuthorizedKeysFile $(Join-Path $work 'authorized_keys')
PidFile $(Join-Path $work 'sshd.pid')
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem powershell $dotnet $(Join-Path $PSHOME 'pwsh.dll') -sshs -NoLogo -NoProfile
"@
    New-Item -ItemType Directory -Force -Path '/run/sshd' | Out-Null
    $script:sshdProcess = Start-Process -FilePath $sshd.Source -ArgumentList '-D', '-e', '-f', (Join-Path $work 'sshd_config') -PassThru -RedirectStandardError (Join-Path $work 'sshd.log')
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    do {
        Start-Sleep -Milliseconds 200
        $client = [System.Net.Sockets.TcpClient]::new()
        try { $client.Connect('127.0.0.1', $port); $up = $true } catch { $up = $false } finally { $client.Dispose() }
    } until ($up -or [DateTime]::UtcNow -gt $deadline)
    if (-not $up) { throw "sshd did not start: $(Get-Content -Raw (Join-Path $work 'sshd.log'))" }

    $script:remoting = @{
        HostName    = 'hv1', 'hv2'
        Port        = $port
        UserName    = 'root'
        KeyFilePath = Join-Path $work 'client_key'
        Options     = @{ HostName = '127.0.0.1'; StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
    }
    $script:devices = Invoke-Command @remoting -ArgumentList $modulePath, $root -ScriptBlock {
        param($Module, $Root)
        Import-Module $Module
        Get-PciDevice -Root $Root
    }
}

AfterAll {
    if ($sshdProcess) { Stop-Process -Id $sshdProcess.Id -Force -ErrorAction SilentlyContinue; $sshdProcess.WaitForExit() }
    Remove-PciTestRoot $work
}

Describe 'Remoting over SSH to two hosts' {
    BeforeEach {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason }
    }

    It 'Get-PciDevice returns every device of each host, deserialized, with PSComputerName' {
        $devices.Count | Should -Be 6
        ($devices | Group-Object PSComputerName | ForEach-Object { "$($_.Name)=$($_.Count)" }) | Should -Be @('hv1=3', 'hv2=3')
        $devices[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.PciPassthrough.PciDevice'
        ($devices | Where-Object PSComputerName -eq 'hv1').PciAddress | Should -Be @('0000:00:1f.2', '0000:01:00.0', '0000:02:00.0')
    }

    It 'enums compare by name after remoting' {
        @($devices | Where-Object SriovRole -eq 'None').Count | Should -Be 6
    }

    It 'Import-PciHostInventory | Find-PciPlacement places a GPU request on each host' {
        $placements = $devices | Import-PciHostInventory | Find-PciPlacement -Section (New-PciTemplateSection -Class 0302)
        ($placements | Where-Object CanHost).HostName | Sort-Object | Should -Be @('hv1', 'hv2')
        ($placements.Assignments.PciAddress | Sort-Object -Unique) | Should -Be '0000:01:00.0'
    }

    It 'Set-VfioBinding -WhatIf refuses the remote objects here and says where to run it' {
        $before = Get-PciDevice -Root $root | ForEach-Object { "$($_.PciAddress)=$($_.Driver)|$($_.DriverOverride)" }
        $devices | Where-Object Class -eq '0302' | Set-VfioBinding -WhatIf -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 2
        $errors.FullyQualifiedErrorId | Sort-Object -Unique | Should -Be 'ObjectFromAnotherHost,PciPassthrough.PowerShell.Commands.SetVfioBindingCommand'
        $errors[0].ErrorDetails.RecommendedAction | Should -BeLike '*Invoke-Command -HostName hv*'
        Get-PciDevice -Root $root | ForEach-Object { "$($_.PciAddress)=$($_.Driver)|$($_.DriverOverride)" } | Should -Be $before
    }

    It 'the same preview inside Invoke-Command runs on the host it names' {
        $r = Invoke-Command @remoting -ArgumentList $modulePath, $root -ScriptBlock {
            param($Module, $Root)
            Import-Module $Module
            Get-PciDevice -Root $Root -Filter '10de:*' | Set-VfioBinding -WhatIf -ErrorVariable errors
            [pscustomobject]@{ Errors = $errors.Count; Driver = (Get-PciDevice -Root $Root -Address 0000:01:00.0).Driver }
        }
        $r.Errors | Should -Be @(0, 0)
        $r.Driver | Should -Be @('nvidia', 'nvidia')
    }
}
