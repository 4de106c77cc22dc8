# Shared by the Pester tests: where the built module is, and a small fake host tree.

function Get-PciPassthroughModulePath {
    if ($env:PCIPASSTHROUGH_MODULE) { return $env:PCIPASSTHROUGH_MODULE }
    return Join-Path $PSScriptRoot '..' '..' 'out' 'PciPassthrough' 'PciPassthrough.psd1'
}

# Writes one device the way the kernel lays sysfs out: a real directory under sys/devices and a
# link from sys/bus/pci/devices; optional driver and IOMMU group links.
function New-FakePciDevice {
    param(
        [string] $Root,
        [string] $Address,
        [string] $Vendor = '8086',
        [string] $Device = '100e',
        [string] $Class = '020000',
        [string] $Driver,
        [int] $IommuGroup = -1,
        # The kernel's reset_method; an empty string writes neither reset nor reset_method (no reset).
        [string] $ResetMethod = 'flr',
        # The bridge above the device (its folder nests under the bridge's, as in sysfs); none: the root bus.
        [string] $Parent,
        # Writes a 64-byte config header of this type (1: a PCI bridge); -1 writes no config file.
        [int] $HeaderType = -1
    )
    $bus = $Address.Substring(0, 7)
    $relative = if ($Parent) {
        ((Get-Item (Join-Path $Root "sys/bus/pci/devices/$Parent")).ResolvedTarget -replace '^.*/sys/devices/', '') + "/$Address"
    } else { "pci$bus/$Address" }
    $real = Join-Path $Root "sys/devices/$relative"
    $up = '../' * ($relative.Split('/').Count + 1)
    New-Item -ItemType Directory -Force -Path $real, (Join-Path $Root 'sys/bus/pci/devices') | Out-Null
    New-Item -ItemType SymbolicLink -Path (Join-Path $Root "sys/bus/pci/devices/$Address") -Target "../../../devices/$relative" | Out-Null
    if ($HeaderType -ge 0) {
        $config = [byte[]]::new(64)
        $config[0x0e] = $HeaderType
        [System.IO.File]::WriteAllBytes((Join-Path $real 'config'), $config)
    }
    Set-Content -Path (Join-Path $real 'vendor') -Value "0x$Vendor"
    Set-Content -Path (Join-Path $real 'device') -Value "0x$Device"
    Set-Content -Path (Join-Path $real 'class') -Value "0x$Class"
    Set-Content -Path (Join-Path $real 'numa_node') -Value '-1'
    if ($ResetMethod) {
        Set-Content -Path (Join-Path $real 'reset') -Value ''
        Set-Content -Path (Join-Path $real 'reset_method') -Value $ResetMethod
    }
    if ($Driver) {
        New-Item -ItemType Directory -Force -Path (Join-Path $Root "sys/bus/pci/drivers/$Driver") | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $real 'driver') -Target "$($up)bus/pci/drivers/$Driver" | Out-Null
    }
    if ($IommuGroup -ge 0) {
        New-Item -ItemType Directory -Force -Path (Join-Path $Root "sys/kernel/iommu_groups/$IommuGroup/devices") | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $real 'iommu_group') -Target "$($up)kernel/iommu_groups/$IommuGroup" | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $Root "sys/kernel/iommu_groups/$IommuGroup/devices/$Address") -Target "../../../../devices/$relative" | Out-Null
    }
}

# The host-level files the IOMMU checks read, for a healthy Intel host with the vfio modules loaded.
function New-FakeIommuHost {
    param([string] $Root)
    $files = @{
        'proc/cpuinfo'                   = "vendor_id`t: GenuineIntel`nflags`t`t: fpu vmx`n"
        'sys/firmware/acpi/tables/DMAR'  = 'DMAR'
        'proc/sys/kernel/osrelease'      = '6.1.0-27-amd64'
        'proc/cmdline'                   = 'ro quiet intel_iommu=on'
        'proc/interrupts'                = " 24:  0  IR-PCI-MSI 512000-edge  ahci`n"
        'lib/modules/6.1.0-27-amd64/modules.dep' = "kernel/drivers/vfio/vfio.ko:`n"
        'dev/vfio/vfio'                  = ''
    }
    foreach ($path in $files.Keys) {
        $full = Join-Path $Root $path
        New-Item -ItemType Directory -Force -Path (Split-Path $full) | Out-Null
        Set-Content -Path $full -Value $files[$path] -NoNewline
    }
    foreach ($dir in 'sys/class/iommu/dmar0', 'sys/module/vfio', 'sys/module/vfio_iommu_type1', 'sys/module/vfio_pci') {
        New-Item -ItemType Directory -Force -Path (Join-Path $Root $dir) | Out-Null
    }
}

# A fresh folder for a fake host tree, OUTSIDE $TestDrive: sysfs trees hold link cycles
# (iommu_groups/N/devices/<addr> -> the device -> iommu_group -> N), and Pester walks $TestDrive
# recursively after every block, following links. Remove it with Remove-PciTestRoot in AfterAll.
function New-PciTestRoot {
    $path = Join-Path ([System.IO.Path]::GetTempPath()) ("pcipt-pester-" + [guid]::NewGuid().ToString('n'))
    New-Item -ItemType Directory -Path $path | Out-Null
    return $path
}

# Deletes a tree made by New-PciTestRoot without following its links (.NET removes a link, never
# what it points to).
function Remove-PciTestRoot {
    param([string] $Path)
    if ($Path -and [System.IO.Directory]::Exists($Path)) {
        [System.IO.Directory]::Delete($Path, $true)
    }
}

# Runs a script block in a child pwsh (-NonInteractive) with the built module imported, and returns
# its exit code and output (the host's "What if:" lines included). -AsNobody runs it as a user who is
# not root: as root it copies this pwsh and the module to a folder nobody can read (root's home is
# private) and drops to nobody; as another user it runs as that user.
function Invoke-ChildPwsh {
    param([scriptblock] $Script, [string] $Root, [switch] $AsNobody)
    $work = Join-Path ([System.IO.Path]::GetTempPath()) "pcipt-nobody-$([guid]::NewGuid().ToString('n'))"
    New-Item -ItemType Directory -Path $work | Out-Null
    try {
        $module = Split-Path (Get-Module PciPassthrough).Path
        $pwshDll = Join-Path $PSHOME 'pwsh.dll'
        $prefix = @()
        if ($AsNobody -and (& id -u) -eq '0') {
            Copy-Item -Recurse -Path $PSHOME -Destination (Join-Path $work 'pwsh')
            Copy-Item -Recurse -Path $module -Destination (Join-Path $work 'module')
            $module = Join-Path $work 'module'
            $pwshDll = Join-Path $work 'pwsh' 'pwsh.dll'
            & chmod -R a+rX $work
            $prefix = @('setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--')
        }
        $file = Join-Path $work 'script.ps1'
        Set-Content -Path $file -Value "param(`$Module, `$Root)`nImport-Module (Join-Path `$Module 'PciPassthrough.psd1')`n& {$Script} -Root `$Root"
        & chmod a+r $file
        $dotnet = (Get-Process -Id $PID).Path
        $env:HOME, $saved = $work, $env:HOME
        try {
            $command = $prefix + @($dotnet, $pwshDll, '-NoProfile', '-NonInteractive', '-File', $file, $module, $Root)
            $output = & $command[0] $command[1..($command.Count - 1)] 2>&1 | Out-String
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $output }
        }
        finally {
            $env:HOME = $saved
        }
    }
    finally {
        [System.IO.Directory]::Delete($work, $true)
    }
}

# SR-IOV (issue 15): makes a device written by New-FakePciDevice a PF (sriov_* files) or a VF of one
# (physfn and the PF's virtfn<N> link), as the kernel lays them out.
function Set-FakeSriov {
    param(
        [string] $Root,
        [string] $Address,
        [int] $TotalVfs = -1, [int] $NumVfs = 0, [int] $Autoprobe = 1, [int] $Offset = 1, [int] $Stride = 1, [string] $VfDevice = '10',
        [string] $PhysicalFunction, [int] $Index = 0,
        [string[]] $NetworkInterface = @()
    )
    $real = Join-Path $Root "sys/devices/pci$($Address.Substring(0, 7))/$Address"
    if ($TotalVfs -ge 0) {
        $files = @{ sriov_totalvfs = $TotalVfs; sriov_numvfs = $NumVfs; sriov_drivers_autoprobe = $Autoprobe; sriov_offset = $Offset; sriov_stride = $Stride; sriov_vf_device = $VfDevice }
        foreach ($name in $files.Keys) { Set-Content -Path (Join-Path $real $name) -Value $files[$name] }
    }
    if ($PhysicalFunction) {
        New-Item -ItemType SymbolicLink -Path (Join-Path $real 'physfn') -Target "../$PhysicalFunction" | Out-Null
        $pf = Join-Path $Root "sys/devices/pci$($PhysicalFunction.Substring(0, 7))/$PhysicalFunction"
        New-Item -ItemType SymbolicLink -Path (Join-Path $pf "virtfn$Index") -Target "../$Address" | Out-Null
    }
    foreach ($name in $NetworkInterface) { New-Item -ItemType Directory -Force -Path (Join-Path $real "net/$name") | Out-Null }
}

# An SR-IOV host: an igb PF with a VF on igbvf and a VF on vfio-pci that the guest one-7 holds, an NVMe
# PF (1b36:0010, as the real-kernel testbed's) on pci-pf-stub without VFs, and one with no driver.
function New-FakeSriovHost {
    param([string] $Root)
    New-FakeIommuHost -Root $Root
    New-FakePciDevice -Root $Root -Address '0000:02:00.0' -Device '1521' -Driver 'igb' -IommuGroup 7
    Set-FakeSriov -Root $Root -Address '0000:02:00.0' -TotalVfs 7 -NumVfs 2 -Offset 128 -Stride 4 -VfDevice '1520' -NetworkInterface enp2s0f0
    New-FakePciDevice -Root $Root -Address '0000:02:10.0' -Device '1520' -Driver 'igbvf' -IommuGroup 8
    Set-FakeSriov -Root $Root -Address '0000:02:10.0' -PhysicalFunction '0000:02:00.0' -Index 0 -NetworkInterface enp2s16
    New-FakePciDevice -Root $Root -Address '0000:02:10.4' -Device '1520' -Driver 'vfio-pci' -IommuGroup 9
    Set-FakeSriov -Root $Root -Address '0000:02:10.4' -PhysicalFunction '0000:02:00.0' -Index 1
    New-FakePciDevice -Root $Root -Address '0000:08:00.0' -Vendor '1b36' -Device '0010' -Class '010802' -Driver 'pci-pf-stub' -IommuGroup 16
    Set-FakeSriov -Root $Root -Address '0000:08:00.0' -TotalVfs 4
    New-FakePciDevice -Root $Root -Address '0000:09:00.0' -Vendor '1b36' -Device '0010' -Class '010802' -IommuGroup 17
    Set-FakeSriov -Root $Root -Address '0000:09:00.0' -TotalVfs 4
    New-Item -ItemType Directory -Force -Path (Join-Path $Root 'proc/4242/fd') | Out-Null
    Set-Content -Path (Join-Path $Root 'proc/4242/comm') -Value 'qemu-system-x86'
    Set-Content -Path (Join-Path $Root 'proc/4242/cmdline') -Value "qemu-system-x86_64`0-name`0guest=one-7,debug-threads=on`0" -NoNewline
    Set-Content -Path (Join-Path $Root 'dev/vfio/9') -Value ''
    New-Item -ItemType SymbolicLink -Path (Join-Path $Root 'proc/4242/fd/17') -Target '/dev/vfio/9' | Out-Null
}
