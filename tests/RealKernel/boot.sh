#!/usr/bin/env bash
# Boot the real-kernel testbed guest and run one script in it.
#
#   tests/RealKernel/boot.sh <guest-script> [extra qemu args...]
#
# The guest script is a file on THIS machine's file system; the guest sees the
# whole host root (read-only 9p + in-RAM overlay) and runs the script there in a
# chroot, as root, against the guest's own kernel (see guest-init.sh).
# Its console output (stdout+stderr) is written to stdout, or to $PCIPT_OUTPUT.
#
# Exit status: the guest script's exit status, or
#   96  guest /init could not run the script (message in the output)
#   97  harness failure: not prepared, qemu did not start, or the guest never
#       reached the script (kernel panic, 9p mount failure, timeout during boot)
#   98  the script started but did not finish (timeout, guest crash)
#
# Environment:
#   PCIPT_TIMEOUT=600      hard limit for the whole boot, in seconds
#   PCIPT_OUTPUT=<file>    write the script's output there instead of stdout
#   PCIPT_CONSOLE_LOG=<f>  keep the full serial console log there (by default a
#                          temporary file, kept only when the run fails)
#   PCIPT_VERBOSE=1        stream the whole serial console to stderr while it runs
#   PCIPT_NOVFIO=1         guest /init does not load vfio, vfio_iommu_type1, vfio-pci
#   PCIPT_APPEND="..."     extra kernel command line words (e.g. pcipt.env.FOO=bar)
#   PCIPT_MEM=2048 PCIPT_SMP=2 PCIPT_ACCEL=tcg   guest size and accelerator
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK="$HERE/.work"
TIMEOUT=${PCIPT_TIMEOUT:-600}

fail() { # <rc> <message>
    echo "boot.sh: $2" >&2
    exit "$1"
}

[ $# -ge 1 ] || fail 2 "usage: boot.sh <guest-script> [extra qemu args...]"
SCRIPT_ARG=$1
shift
[ -f "$SCRIPT_ARG" ] || fail 97 "guest script '$SCRIPT_ARG' not found"
[ -f "$WORK/env" ] || fail 97 "testbed not prepared: run $HERE/prepare.sh first"
# shellcheck source=/dev/null
. "$WORK/env"
if [ ! -f "$PCIPT_KERNEL" ] || [ ! -f "$PCIPT_INITRD" ]; then
    fail 97 "kernel or initramfs missing: run $HERE/prepare.sh again"
fi
command -v qemu-system-x86_64 >/dev/null \
    || fail 97 "qemu-system-x86_64 not installed: run $HERE/prepare.sh"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || fail 2 "PCIPT_TIMEOUT must be a number of seconds"

NONCE=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
TMPFILES=()
LOG=
KEEP_LOG=1
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    [ ${#TMPFILES[@]} -eq 0 ] || rm -f "${TMPFILES[@]}"
    [ "$KEEP_LOG" = 1 ] || rm -f "$LOG"
}
trap cleanup EXIT

# The guest mounts fresh file systems over /run, /dev, /proc and /sys (and older
# versions over /tmp), and a kernel command line word cannot hold spaces: such
# scripts are copied into .work/scripts first (files next to them are NOT copied).
SCRIPT=$(realpath "$SCRIPT_ARG")
# The script's own folder, for scripts that find files beside them (run-scenarios.sh): a copy below cannot.
SCRIPT_DIR=$(dirname "$SCRIPT")
case "$SCRIPT" in
    /tmp/* | /run/* | /dev/* | /proc/* | /sys/* | *[[:space:]]*)
        mkdir -p "$WORK/scripts"
        copy="$WORK/scripts/$NONCE-$(basename "$SCRIPT" | tr -s '[:space:]' '_')"
        cp "$SCRIPT" "$copy"
        chmod +x "$copy"
        TMPFILES+=("$copy")
        SCRIPT=$copy
        ;;
esac

if [ -n "${PCIPT_CONSOLE_LOG:-}" ]; then
    LOG=$PCIPT_CONSOLE_LOG
    : >"$LOG"
    KEEP_LOG=1
else
    LOG=$(mktemp "$WORK/console.XXXXXX.log")
    KEEP_LOG=0
fi
QERR=$(mktemp "$WORK/qemu-stderr.XXXXXX")
TMPFILES+=("$QERR")

# pci=disable_acs_redir= clears ReqRedir/CmpltRedir on the ACS root port 00:06.0 at enumeration: the
# kernel no longer counts it as isolating, and its e1000e 02:00.0 joins the port's group (the real
# kernel's AcsDisabledOnPort; QEMU's disable-acs=on, on 00:09.0, removes the capability instead).
APPEND="console=ttyS0 intel_iommu=on quiet panic=1 pci=disable_acs_redir=0000:00:06.0 pcipt.script=$SCRIPT pcipt.nonce=$NONCE"
[ "${PCIPT_NOVFIO:-0}" = 1 ] && APPEND+=" pcipt.novfio=1"
[[ "$SCRIPT_DIR" == *[[:space:]]* ]] || APPEND+=" pcipt.env.PCIPT_SCRIPT_DIR=$SCRIPT_DIR"
[ -n "${PCIPT_APPEND:-}" ] && APPEND+=" $PCIPT_APPEND"

# Device layout (addresses fixed so tests can rely on them):
#   00:00.0 host bridge, 00:01.0 VGA, 00:02.0 + 00:03.0 e1000,
#   00:04.0 virtio-9p (the host root), 00:05.0 PCIe root port -> 01:00.0 e1000e,
#   00:06.0 root port with ACS, redirects disabled by pci=disable_acs_redir= -> 02:00.0 e1000e (its group),
#   00:07.0 root port -> 03:00.0 x3130 upstream -> 04:00.0 downstream (no ACS) -> 05:00.0 e1000e,
#   00:08.0 pcie-pci-bridge -> 06:01.0 + 06:02.0 e1000-82545em (conventional PCI, 8086:100f),
#   00:09.0 root port with disable-acs=on -> 07:00.0 e1000e,
#   00:1e.0 root port -> 08:00.0 NVMe SR-IOV PF (1b36:0010, up to 4 VFs; no host driver: pci-pf-stub),
#   00:1f.x ICH9 (LPC, SATA, SMBus).
# shellcheck disable=SC2054 # commas belong to qemu option values
QEMU=(qemu-system-x86_64
    -accel "${PCIPT_ACCEL:-tcg}" -m "${PCIPT_MEM:-2048}" -smp "${PCIPT_SMP:-2}" -machine q35
    -device intel-iommu,intremap=on,caching-mode=on
    -display none -monitor none -no-reboot
    -serial "file:$LOG"
    -kernel "$PCIPT_KERNEL" -initrd "$PCIPT_INITRD" -append "$APPEND"
    -netdev user,id=n0,restrict=on -device e1000,netdev=n0,addr=0x2
    -netdev user,id=n1,restrict=on -device e1000,netdev=n1,addr=0x3
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=host,addr=0x4
    -device pcie-root-port,id=rp1,bus=pcie.0,addr=0x5,chassis=1
    -netdev user,id=n2,restrict=on -device e1000e,netdev=n2,bus=rp1
    -device pcie-root-port,id=rp2,bus=pcie.0,addr=0x6,chassis=2
    -netdev user,id=n3,restrict=on -device e1000e,netdev=n3,bus=rp2
    -device pcie-root-port,id=rp3,bus=pcie.0,addr=0x7,chassis=3
    -device x3130-upstream,id=up1,bus=rp3
    -device xio3130-downstream,id=dn1,bus=up1,chassis=4,slot=0
    -netdev user,id=n4,restrict=on -device e1000e,netdev=n4,bus=dn1
    -device pcie-pci-bridge,id=pb1,bus=pcie.0,addr=0x8
    -netdev user,id=n5,restrict=on -device e1000-82545em,netdev=n5,bus=pb1,addr=0x1
    -netdev user,id=n6,restrict=on -device e1000-82545em,netdev=n6,bus=pb1,addr=0x2
    -device pcie-root-port,id=rp4,bus=pcie.0,addr=0x9,chassis=5,disable-acs=on
    -netdev user,id=n7,restrict=on -device e1000e,netdev=n7,bus=rp4
    -device pcie-root-port,id=rp9,bus=pcie.0,addr=0x1e,chassis=30
    -device nvme-subsys,id=sriovsubsys
    -device nvme,serial=pcipt-sriov,subsys=sriovsubsys,bus=rp9,sriov_max_vfs=4,sriov_vq_flexible=8,sriov_vi_flexible=4
    "$@")

TAIL_PID=
if [ "${PCIPT_VERBOSE:-0}" = 1 ]; then
    tail -n +1 -F "$LOG" >&2 2>/dev/null &
    TAIL_PID=$!
fi

start=$(date +%s)
set +e
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$QERR" 2>&1
qrc=$?
set -e
elapsed=$(($(date +%s) - start))
if [ -n "$TAIL_PID" ]; then
    sleep 0.3
    kill "$TAIL_PID" 2>/dev/null || true
    wait "$TAIL_PID" 2>/dev/null || true
fi

BEGIN="=== PCIPT-BEGIN $NONCE ==="
END_RE="=== PCIPT-END rc=[0-9]+ $NONCE ==="

# The text between the markers; an END marker that follows output without a
# final newline shares its line, so the part before it is kept.
extract() {
    awk -v begin="$BEGIN" -v endre="$END_RE" '
        { sub(/\r$/, "") }
        !on { if (index($0, begin)) on = 1; next }
        match($0, endre) { if (RSTART > 1) print substr($0, 1, RSTART - 1); exit }
        { print }' "$LOG"
}
emit() {
    if [ -n "${PCIPT_OUTPUT:-}" ]; then extract >"$PCIPT_OUTPUT"; else extract; fi
}
keep_log() { KEEP_LOG=1; echo "boot.sh: full console log: $LOG" >&2; }

why=""
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    why="timed out after ${TIMEOUT}s (PCIPT_TIMEOUT)"
elif [ "$qrc" != 0 ]; then
    why="qemu exited with status $qrc"
fi

if ! grep -qF "$BEGIN" "$LOG"; then
    {
        echo "boot.sh: the guest never started the script${why:+: $why}"
        if [ -s "$QERR" ]; then echo "--- qemu stderr ---"; cat "$QERR"; fi
        echo "--- last console lines ---"
        tail -n 30 "$LOG" | tr -d '\r'
    } >&2
    keep_log
    exit 97
fi

emit
rc=$(tr -d '\r' <"$LOG" | grep -oE "$END_RE" | head -n1 | sed -E 's/.*rc=([0-9]+).*/\1/' || true)
if [ -z "$rc" ]; then
    {
        echo "boot.sh: the guest script started but did not finish${why:+: $why}"
        [ -s "$QERR" ] && { echo "--- qemu stderr ---"; cat "$QERR"; }
    } >&2
    keep_log
    exit 98
fi
echo "boot.sh: guest script rc=$rc, boot took ${elapsed}s" >&2
exit "$rc"
