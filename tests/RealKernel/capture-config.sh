#!/bin/sh
# Captures the config space (all 4096 bytes: the guest script runs as root) and `lspci -vvv -nn` of the
# testbed's ports, bridges and endpoints: the fixtures of the config-space parser's tests
# (tests/PciPassthrough.Core.Tests/ConfigSpace). Two modes:
#   in the guest:  tests/RealKernel/boot.sh tests/RealKernel/capture-config.sh > capture.txt
#   on the host:   tests/RealKernel/capture-config.sh --write <dir> < capture.txt
# --write turns each "=== CONFIG <address>" section (base64) into <dir>/<address>.config and each
# "=== LSPCI <address>" section into <dir>/<address>.lspci.txt, with ':' in addresses written as '_'.
set -eu
DEVICES="0000:00:05.0 0000:00:06.0 0000:00:08.0 0000:00:09.0 0000:01:00.0 0000:03:00.0 0000:04:00.0 0000:06:01.0 0000:08:00.0"

if [ "${1:-}" = --write ]; then
    dir=${2:?usage: capture-config.sh --write <dir> < capture.txt}
    mkdir -p "$dir"
    awk -v dir="$dir" '
        /^=== CONFIG / { name = $3; gsub(":", "_", name); mode = "config"; next }
        /^=== LSPCI /  { name = $3; gsub(":", "_", name); mode = "lspci"; out = dir "/" name ".lspci.txt"; printf "" > out; next }
        /^=== END /    { mode = ""; next }
        mode == "config" { print | ("base64 -d > \"" dir "/" name ".config\""); close("base64 -d > \"" dir "/" name ".config\""); mode = ""; next }
        mode == "lspci"  { print >> out }
    '
    exit 0
fi

echo "=== KERNEL $(uname -r) $(cat /proc/cmdline)"
for d in $DEVICES; do
    echo "=== CONFIG $d"
    base64 -w0 "/sys/bus/pci/devices/$d/config"
    echo
    echo "=== LSPCI $d"
    lspci -vvv -nn -s "$d"
    echo "=== END $d"
done
