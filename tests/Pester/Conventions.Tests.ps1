#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# What every PowerShell user expects of any module: member enumeration over every property, enums that
# compare by name after remoting, and the preference variables honoured by every changing cmdlet.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    $env:PCIPT_REPO = (Resolve-Path (Join-Path $PSScriptRoot .. ..)).Path
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:root = New-PciTestRoot
    New-FakeIommuHost -Root $root
    New-FakePciDevice -Root $root -Address '0000:00:1f.2' -Vendor '8086' -Device '2922' -Class '010601' -Driver 'ahci' -IommuGroup 5
    New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
    New-FakePciDevice -Root $root -Address '0000:02:00.0' -Vendor '8086' -Device '1521' -Class '020000' -Driver 'igb' -IommuGroup 7
    $script:conf = Join-Path $root 'pci.conf'
    Set-Content -Path $conf -Value ":filter: '*:*'`n" -NoNewline
    $script:sriovRoot = New-PciTestRoot
    New-FakeSriovHost -Root $sriovRoot

    # The public types reachable from the cmdlets' [OutputType]s, through properties and arrays.
    function Get-ModuleOutputType {
        $seen = [System.Collections.Generic.HashSet[type]]::new()
        $queue = [System.Collections.Generic.Queue[type]]::new()
        foreach ($command in Get-Command -Module PciPassthrough) {
            foreach ($t in $command.OutputType.Type) { if ($t) { $queue.Enqueue($t) } }
        }
        while ($queue.Count -gt 0) {
            $t = $queue.Dequeue()
            while ($t.IsArray) { $t = $t.GetElementType() }
            if ($t.IsGenericType) { $t.GetGenericArguments() | ForEach-Object { $queue.Enqueue($_) }; continue }
            $t = [Nullable]::GetUnderlyingType($t) ?? $t
            if (-not $t.Namespace -or -not $t.Namespace.StartsWith('PciPassthrough') -or -not $seen.Add($t)) { continue }
            foreach ($p in $t.GetProperties([System.Reflection.BindingFlags]'Public, Instance')) { $queue.Enqueue($p.PropertyType) }
        }
        $seen
    }

    # Two or more live objects of every output type, so member enumeration runs over an array.
    function Get-SampleOutput {
        $placementHost = Get-PciDevice -Root $root | Import-PciHostInventory -HostName hv1
        @{
            'PciPassthrough.PciDevice'                            = Get-PciDevice -Root $root
            'PciPassthrough.Iommu.IommuGroup'                     = Get-IommuGroup -Root $root
            'PciPassthrough.Iommu.IommuSupportReport'             = 1..2 | ForEach-Object { Test-IommuSupport -Root $root }
            'PciPassthrough.Readiness.PassthroughReadiness'       = Test-PciPassthroughReadiness -Root $root
            'PciPassthrough.Iommu.ReadinessCheck'                 = Test-VfioHostConfiguration -Root $root
            'PciPassthrough.HostConfig.VfioHostConfiguration'     = 1..2 | ForEach-Object { Get-VfioHostConfiguration -Root $root }
            'PciPassthrough.OpenNebula.PciProbeFilter'            = 1..2 | ForEach-Object { Get-PciProbeFilter -Path $conf }
            'PciPassthrough.HostConfig.ConfigFileChange'          = '10de:*', '8086:*' | ForEach-Object { Set-PciProbeFilter -Path $conf -Filter $_ -Confirm:$false }
            'PciPassthrough.OpenNebula.Templates.PciTemplateSection' = (New-PciTemplateSection -Class 0302), (New-PciTemplateSection -VendorId 8086)
            'PciPassthrough.OpenNebula.Placement.PciHostInventory'   = @($placementHost, $placementHost)
            'PciPassthrough.OpenNebula.Placement.PciPlacement'       = 1..2 | ForEach-Object { $placementHost | Find-PciPlacement -Section (New-PciTemplateSection -Class 0302) }
            'PciPassthrough.Sriov.VirtualFunction'                   = Get-PciVirtualFunction -Root $sriovRoot
            'PciPassthrough.Sriov.VirtualFunctionChange'             = 1..2 | ForEach-Object { Set-PciVirtualFunctionCount -Root $sriovRoot -Address 0000:08:00.0 -Count 0 -Confirm:$false 6>$null }
        }
    }
}

AfterAll {
    Remove-PciTestRoot $root
    Remove-PciTestRoot $sriovRoot
}

Describe 'Member enumeration' {
    It 'no property of any output type is hidden by a member of PowerShell arrays' {
        $arrayMembers = ([object[]]@(1, 2)).PSObject.Members | ForEach-Object Name
        $collisions = foreach ($t in Get-ModuleOutputType) {
            foreach ($p in $t.GetProperties([System.Reflection.BindingFlags]'Public, Instance')) {
                if ($p.Name -in $arrayMembers) { "$($t.FullName).$($p.Name)" }
            }
        }
        $collisions | Should -BeNullOrEmpty
    }

    It 'every property of <Type> enumerates to values, never to a method' -TestCases @(
        'PciPassthrough.PciDevice', 'PciPassthrough.Iommu.IommuGroup', 'PciPassthrough.Iommu.IommuSupportReport',
        'PciPassthrough.Readiness.PassthroughReadiness', 'PciPassthrough.Iommu.ReadinessCheck',
        'PciPassthrough.HostConfig.VfioHostConfiguration', 'PciPassthrough.OpenNebula.PciProbeFilter',
        'PciPassthrough.HostConfig.ConfigFileChange', 'PciPassthrough.OpenNebula.Templates.PciTemplateSection',
        'PciPassthrough.OpenNebula.Placement.PciHostInventory', 'PciPassthrough.OpenNebula.Placement.PciPlacement',
        'PciPassthrough.Sriov.VirtualFunction', 'PciPassthrough.Sriov.VirtualFunctionChange'
    ).ForEach({ @{ Type = $_ } }) {
        $objects = @((Get-SampleOutput)[$Type])
        $objects.Count | Should -BeGreaterThan 1
        $objects[0].GetType().FullName | Should -Be $Type
        foreach ($name in $objects[0].PSObject.Properties.Name) {
            $value = $objects.$name
            $value | Should -Not -BeOfType [System.Management.Automation.PSMethodInfo] -Because "$Type.$name"
        }
    }

    It 'reads the addresses of a device list with (Get-PciDevice).PciAddress' {
        (Get-PciDevice -Root $root).PciAddress | Should -Be @('0000:00:1f.2', '0000:01:00.0', '0000:02:00.0')
        (Get-IommuGroup -Root $root -Number 6).Devices.PciAddress | Should -Be '0000:01:00.0'
    }
}

Describe 'Enums after serialization' {
    It 'every enum an output type carries travels as its name' {
        $enums = @(Get-ModuleOutputType | Where-Object IsEnum)
        $enums.FullName | Should -Contain 'PciPassthrough.SriovRole'
        foreach ($enum in $enums) {
            (Get-TypeData -TypeName $enum.FullName).SerializationMethod | Should -Be 'String' -Because $enum.FullName
        }
    }

    It 'SriovRole, Status and Action compare by name after a serialization round trip' {
        $device = Get-PciDevice -Root $root -Address 0000:01:00.0
        $check = Test-VfioHostConfiguration -Root $root | Select-Object -First 1
        $change = Set-PciProbeFilter -Path $conf -Filter '10de:1eb8' -Confirm:$false
        foreach ($pair in @(@($device, 'SriovRole'), @($check, 'Status'), @($change, 'Action'))) {
            $original, $property = $pair
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($original))
            $copy.PSObject.TypeNames[0] | Should -BeLike 'Deserialized.*'
            $copy.$property | Should -BeOfType [string]
            ($copy.$property -eq $original.$property.ToString()) | Should -BeTrue -Because $property
        }
        $copies = Get-PciDevice -Root $root | ForEach-Object { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_)) }
        @($copies | Where-Object SriovRole -eq 'None').Count | Should -Be 3
    }
}

Describe 'Preference variables' {
    BeforeEach {
        $script:config = New-PciTestRoot
        New-FakeIommuHost -Root $config
        New-FakePciDevice -Root $config -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
        New-FakePciDevice -Root $config -Address '0000:02:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'vfio-pci' -IommuGroup 7
        New-FakePciDevice -Root $config -Address '0000:08:00.0' -Vendor '1b36' -Device '0010' -Class '010802' -Driver 'pci-pf-stub' -IommuGroup 16
        Set-FakeSriov -Root $config -Address '0000:08:00.0' -TotalVfs 4
        New-Item -ItemType Directory -Force -Path (Join-Path $config 'etc/modprobe.d') | Out-Null
        $script:pciConf = Join-Path $config 'pci.conf'
        Set-Content -Path $pciConf -Value ":filter: '0:0'`n" -NoNewline
    }

    AfterEach {
        Remove-PciTestRoot $config
    }

    It '$WhatIfPreference previews <Name> and writes nothing' -TestCases @(
        @{ Name = 'Set-VfioBinding'; Call = { Set-VfioBinding -Root $config -Address 0000:01:00.0 } }
        @{ Name = 'Set-VfioHostConfiguration'; Call = { Set-VfioHostConfiguration -Root $config -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None } }
        @{ Name = 'Set-PciProbeFilter'; Call = { Set-PciProbeFilter -Path $pciConf -Filter '10de:*' } }
        @{ Name = 'Remove-VfioBinding'; Call = { Remove-VfioBinding -Root $config -Address 0000:02:00.0 -Driver nvidia } }
        @{ Name = 'Reset-PciDevice'; Call = { Reset-PciDevice -Root $config -Address 0000:01:00.0 } }
        @{ Name = 'Set-PciResetMethod'; Call = { Set-PciResetMethod -Root $config -Address 0000:01:00.0 -Method bus } }
        @{ Name = 'Set-PciVirtualFunctionCount'; Call = { Set-PciVirtualFunctionCount -Root $config -Address 0000:08:00.0 -Count 2 -DriversAutoprobe $false } }
    ) {
        $before = Get-ChildItem -Recurse -Force -File $config | ForEach-Object { "$($_.FullName)=$(Get-FileHash $_.FullName | ForEach-Object Hash)" }
        $WhatIfPreference = $true
        & $Call *> $null
        $WhatIfPreference = $false
        $after = Get-ChildItem -Recurse -Force -File $config | ForEach-Object { "$($_.FullName)=$(Get-FileHash $_.FullName | ForEach-Object Hash)" }
        $after | Should -Be $before
    }

    It '$WhatIfPreference lets a user who is not root preview a binding' {
        $result = Invoke-ChildPwsh -AsNobody -Root $config -Script {
            param($Root)
            $WhatIfPreference = $true
            Set-VfioBinding -Root $Root -Address 0000:01:00.0 -ErrorAction Stop
        }
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -BeLike '*What if: Performing the operation "Bind to vfio-pci" on target "0000:01:00.0*'
    }

    It '$ConfirmPreference = None lets <Name> run without a prompt; High asks (and -Confirm:$false is needed in a non-interactive host)' -TestCases @(
        @{ Name = 'Set-PciProbeFilter' }
    ) {
        $ConfirmPreference = 'None'
        Set-PciProbeFilter -Path $pciConf -Filter '10de:*' | ForEach-Object Action | Should -Be 'Updated'
        (Get-PciProbeFilter -Path $pciConf).Filter | Should -Be '10de:*'
    }

    It 'the Set-GpuPassthrough runbook lets -WhatIf flow to Set-VfioBinding and asks before binding' {
        $preview = Invoke-ChildPwsh -Root $config -Script {
            param($Root)
            & (Join-Path $env:PCIPT_REPO 'docs/runbooks/Set-GpuPassthrough.ps1') -Root $Root -WhatIf
        }
        $preview.ExitCode | Should -Be 0 -Because $preview.Output
        $preview.Output | Should -BeLike '*What if: Performing the operation "Bind to vfio-pci" on target "0000:01:00.0*'
        # Without -WhatIf or -Confirm:$false the high-impact bind prompts: a non-interactive host says it cannot.
        $asked = Invoke-ChildPwsh -Root $config -Script {
            param($Root)
            & (Join-Path $env:PCIPT_REPO 'docs/runbooks/Set-GpuPassthrough.ps1') -Root $Root
        }
        $asked.Output | Should -BeLike '*NonInteractive mode*'
        (Get-PciDevice -Root $config -Address 0000:01:00.0).Driver | Should -Be 'nvidia'
    }
}

Describe 'Objects from another host' {
    It '<Name> refuses a device that came from another host, and says where to run it' -TestCases @(
        @{ Name = 'Set-VfioBinding'; Id = 'ObjectFromAnotherHost,PciPassthrough.PowerShell.Commands.SetVfioBindingCommand' }
        @{ Name = 'Remove-VfioBinding'; Id = 'ObjectFromAnotherHost,PciPassthrough.PowerShell.Commands.RemoveVfioBindingCommand' }
        @{ Name = 'Set-VfioHostConfiguration'; Id = 'ObjectFromAnotherHost,PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand' }
        @{ Name = 'Set-PciVirtualFunctionCount'; Id = 'ObjectFromAnotherHost,PciPassthrough.PowerShell.Commands.SetPciVirtualFunctionCountCommand'; Extra = @{ Count = 2 } }
        @{ Name = 'Set-PciVirtualFunction'; Id = 'ObjectFromAnotherHost,PciPassthrough.PowerShell.Commands.SetPciVirtualFunctionCommand'; Extra = @{ VlanId = 5 } }
    ) {
        $remote = Get-PciDevice -Root $root -Address 0000:01:00.0 | ForEach-Object {
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_))
            $copy.PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'hv-elsewhere-17'))
            $copy
        }
        # Set-VfioHostConfiguration then also ends the call (ConfigurationInputRejected): it writes all or nothing.
        $more = if ($Extra) { $Extra } else { @{} }
        try { $remote | & $Name @more -WhatIf -ErrorVariable errors -ErrorAction SilentlyContinue 6>$null } catch { }
        $errors[0].FullyQualifiedErrorId | Should -Be $Id
        $errors[0].ErrorDetails.RecommendedAction | Should -BeLike '*Invoke-Command -HostName hv-elsewhere-17*'
    }

    It 'a device of this host (PSComputerName localhost) is acted on' {
        $local = Get-PciDevice -Root $root -Address 0000:01:00.0 | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'localhost' -PassThru
        $local | Set-VfioBinding -WhatIf -ErrorVariable errors
        $errors | Should -BeNullOrEmpty
    }
}
