#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# The hostdev elements the module writes, checked by libvirt's own schema (virt-xml-validate, Debian
# package libvirt-clients) inside a minimal domain document, as libvirt would read them.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:validator = Get-Command virt-xml-validate -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    $script:work = New-PciTestRoot

    function Test-DomainXml {
        param([string[]] $Hostdev)
        $file = Join-Path $work "domain-$([guid]::NewGuid().ToString('n')).xml"
        $devices = ($Hostdev | ForEach-Object { $_ }) -join "`n"
        Set-Content -Path $file -Value @"
<domain type='kvm'>
  <name>one-7</name>
  <memory unit='KiB'>1048576</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
$devices
  </devices>
</domain>
"@
        $output = & $validator.Source $file domain 2>&1 | Out-String
        [pscustomobject]@{ Valid = $LASTEXITCODE -eq 0; Output = $output }
    }
}

AfterAll {
    Remove-PciTestRoot $work
}

Describe 'ConvertTo-PciHostdevXml against libvirt''s schema' {
    BeforeEach {
        if (-not $validator) {
            if ($env:CI -eq 'true') { throw 'virt-xml-validate is missing: apt-get install libvirt-clients (.ci/run does this).' }
            Set-ItResult -Skipped -Because 'virt-xml-validate is not installed (apt-get install libvirt-clients)'
        }
    }

    It 'a PCI hostdev validates as part of a domain' {
        $r = Test-DomainXml -Hostdev (ConvertTo-PciHostdevXml -Address 0000:01:00.0, 0001:af:1f.7)
        $r.Output | Should -BeLike '*validates*'
        $r.Valid | Should -BeTrue
    }

    It 'an mdev hostdev validates as part of a domain' {
        $r = Test-DomainXml -Hostdev (ConvertTo-PciHostdevXml -Uuid '5bbb7bbc-4d62-5e7d-8a3e-1c8d0a3b7f11')
        $r.Output | Should -BeLike '*validates*'
        $r.Valid | Should -BeTrue
    }

    It 'the schema check itself rejects a broken hostdev (the oracle can fail)' {
        $r = Test-DomainXml -Hostdev "<hostdev mode='subsystem' type='pci'><source><address bus='zz'/></source></hostdev>"
        $r.Output | Should -BeLike "*fails to validate*"
        $r.Valid | Should -BeFalse
    }
}
