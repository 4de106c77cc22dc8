#!/usr/bin/env bash
# Bind/unbind of one device: the module (Set-VfioBinding, Remove-VfioBinding) against libvirt (virsh nodedev-detach,
# nodedev-reattach), interleaved in one boot of the real-kernel guest; prints the median of each. Not a test.
#
#   dotnet build PciPassthrough.sln && tests/RealKernel/prepare.sh     # once (prepare.sh as root installs libvirt)
#   bench/RealKernel/bind-vs-libvirt.sh [rounds]                        # default 10 rounds
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNNER="$REPO/tests/PciPassthrough.GuestRunner/bin/Debug/net10.0/PciPassthrough.GuestRunner.dll"
[ -f "$RUNNER" ] || { echo "build first: dotnet build PciPassthrough.sln" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
PCIPT_APPEND="pcipt.env.PCIPT_RUNNER=$RUNNER pcipt.env.PCIPT_SCENARIOS=$REPO/bench/RealKernel/bind-vs-libvirt.ps1 pcipt.env.PCIPT_BENCH_ROUNDS=${1:-10}" \
    PCIPT_TIMEOUT=${PCIPT_TIMEOUT:-1200} "$REPO/tests/RealKernel/boot.sh" "$REPO/tests/RealKernel/run-scenarios.sh" >"$out"
grep -E '^(OUT|ERR|TERM) ' "$out" | sed 's/^OUT //'
awk -F'|' '/^OUT round=/ {
        n++; b[n] = $2; u[n] = $3; d[n] = $4; r[n] = $5; v[n] = $7
        if ($6 != "vfio-pci,e1000e,vfio-pci,e1000e") bad++
    }
    function median(a, n,   i, j, t, s) {
        for (i = 1; i <= n; i++) s[i] = a[i]
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
        return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
    }
    END {
        if (n == 0) { print "no rounds ran"; exit 1 }
        printf "rounds %d, wrong drivers %d\n", n, bad
        printf "bind:   Set-VfioBinding     %7.1f ms   virsh nodedev-detach   %7.1f ms   ratio %.2f\n", median(b, n), median(d, n), median(b, n) / median(d, n)
        printf "unbind: Remove-VfioBinding  %7.1f ms   virsh nodedev-reattach %7.1f ms   ratio %.2f\n", median(u, n), median(r, n), median(u, n) / median(r, n)
        printf "virsh version (process start, connect, one call): %.1f ms; libvirt without it: detach %.1f ms, reattach %.1f ms\n", median(v, n), median(d, n) - median(v, n), median(r, n) - median(v, n)
    }' "$out"
