#!/usr/bin/env bash
# The README's test command: on a fresh machine with only the .NET SDK, install what the tests need, then run every
# test (dotnet test PciPassthrough.sln) and print one summary line. .ci/run calls exactly this. Debian packages come
# from apt (as root; once installed, later runs need no root for them); the pinned pwsh (.config/dotnet-tools.json)
# and Pester come from NuGet through the build itself.
#
#   tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# pciutils, pci.ids: the lspci comparisons; openssh-server/-client: the remoting test (sshd on
# 127.0.0.1); libvirt-clients, libxml2-utils: virt-xml-validate checks the hostdev XML; clang, zlib1g-dev:
# the NativeAOT toolchain that builds pci-probe (without them the build skips it and its tests fail under CI).
# mdevctl, uuid-runtime: the mediated-device tests read and write definitions with the real mdevctl and
# compare deterministic UUIDs with uuidgen. ruby: the pci.conf tests read every file with Ruby's own YAML (Psych), as pci.rb does.
packages=(pciutils pci.ids openssh-server openssh-client libvirt-clients libxml2-utils clang zlib1g-dev mdevctl uuid-runtime ruby)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The real-kernel testbed: qemu, kmod, cpio, busybox-static and Debian's kernel package, all from
# Debian's registry. If it cannot be prepared, its tests report themselves skipped with the reason.
if ! tests/RealKernel/prepare.sh >/dev/null; then
    echo "WARNING: tests/RealKernel/prepare.sh failed; the real-kernel tests will be skipped." >&2
fi

rm -f TestResults/pester.xml
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The README's test command.
set +e
dotnet test PciPassthrough.sln 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# The Pester suite runs inside one xunit test; its own counts come from its NUnit result.
pester=TestResults/pester.xml
attr() { sed -n "s/.*<test-results [^>]* $1=\"\([0-9]*\)\".*/\1/p" "$pester" | head -n 1; }
if [ -f "$pester" ]; then
    pt=$(attr total) pf=$(( $(attr failures) + $(attr errors) )) ps=$(( $(attr skipped) + $(attr not-run) + $(attr inconclusive) ))
    echo "Pester: $((pt - pf - ps)) passed, $pf failed, $ps skipped"
else
    echo "Pester: no result file ($pester)"
    pt=0 pf=0 ps=0
fi

# One plain summary line over every test assembly ("Passed!  - Failed: 0, Passed: 78, Skipped: 0, ...")
# and every Pester test (the xunit test that runs them counts once more).
awk -v pp=$((pt - pf - ps)) -v pf="$pf" -v ps="$ps" '/(Passed|Failed)! +- +Failed: /{
        for (i = 1; i <= NF; i++) {
            if ($i == "Failed:") f += $(i + 1)
            if ($i == "Passed:") p += $(i + 1)
            if ($i == "Skipped:") s += $(i + 1)
        }
    }
    END { gsub(",", "", f); printf "%d passed, %d failed, %d skipped\n", p + pp, f + pf, s + ps }' "$log"
exit "$status"
