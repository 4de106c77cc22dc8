#!/bin/sh
# /init of the real-kernel testbed guest (runs under busybox sh, PID 1).
# prepare.sh copies this file into the initramfs as /init; boot.sh starts it.
#
# Kernel command line options read here (dotted options are not passed to
# init as arguments or environment, so they are parsed from /proc/cmdline):
#   pcipt.script=/abs/path   guest script, a path on the HOST file system (required)
#   pcipt.nonce=<word>       suffix of the marker lines, so they cannot be faked
#   pcipt.novfio=1           do not load vfio, vfio_iommu_type1 nor vfio-pci
#   pcipt.loglevel=<n>       console log level while the script runs (default 1)
#   pcipt.env.NAME=value     export NAME=value to the guest script (no spaces)
#
# Layout: /lower  = the host's / over 9p, read-only
#         /upper  = tmpfs holding the overlay's upper and work directories
#         /host   = overlay(lower=/lower, upper=tmpfs): the chroot of the guest
#                   script. Writes land in guest RAM and vanish at power-off.
#         /host/{proc,sys,dev,dev/pts,dev/shm,run,run/lock}: guest mounts
#         /host/lib/modules/<guest release>: bind of this initramfs's modules

PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

say() { echo "pcipt-init: $*"; }

SCRIPT=
NONCE=0
NOVFIO=0
LOGLEVEL=1
ENVS=
set -f   # no globbing of command line words
# shellcheck disable=SC2013 # the command line is a list of words
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        pcipt.script=*)   SCRIPT=${arg#pcipt.script=} ;;
        pcipt.nonce=*)    NONCE=${arg#pcipt.nonce=} ;;
        pcipt.novfio=*)   NOVFIO=${arg#pcipt.novfio=} ;;
        pcipt.loglevel=*) LOGLEVEL=${arg#pcipt.loglevel=} ;;
        pcipt.env.*=*)    ENVS="$ENVS ${arg#pcipt.env.}" ;;
    esac
done
set +f

fail() {
    say "FATAL: $*"
    echo "=== PCIPT-END rc=96 $NONCE ==="
    poweroff -f
    sleep 5
}

# Drivers. virtio_pci first, or the 9p device is not found. vfio-pci is never
# handed device ids here: the e1000/e1000e NICs stay on their own drivers.
for m in virtio_pci 9pnet_virtio 9p overlay e1000 e1000e; do
    modprobe "$m" || say "modprobe $m failed"
done
# The ICH9 functions' host drivers, so that their shared IOMMU group has members on host
# drivers (the binding tests must see Set-VfioBinding refuse to split it).
for m in lpc_ich ahci i2c_i801; do
    modprobe "$m" || say "modprobe $m failed"
done
if [ "$NOVFIO" != 1 ]; then
    for m in vfio vfio_iommu_type1 vfio-pci; do
        modprobe "$m" || say "modprobe $m failed"
    done
fi
ifconfig lo 127.0.0.1 up 2>/dev/null

mkdir -p /lower /upper /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose host /lower \
    || fail "cannot mount the host root over 9p"

# A writable view of the host root (needed at least to create
# /lib/modules/<release>, which the host does not have).
mount -t tmpfs -o mode=0755 pcipt-upper /upper
mkdir -p /upper/u /upper/w
if ! mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w pcipt-root /host; then
    say "overlay failed; using the read-only 9p mount directly"
    mount --bind /lower /host
fi

mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
# No tmpfs over /tmp: the overlay already keeps the guest's writes in RAM, and a fresh /tmp would hide
# a repository cloned under the host's /tmp (the module, the guest runner and the scenarios).
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /host/run
mkdir -p /host/run/lock
mount -t tmpfs -o mode=1777,nosuid,nodev,noexec tmpfs /host/run/lock

# Let modprobe inside the chroot (the host's kmod) find the GUEST kernel's modules.
REL=$(uname -r)
if mkdir -p "/host/lib/modules/$REL" 2>/dev/null; then
    mount --bind "/lib/modules/$REL" "/host/lib/modules/$REL"
elif [ -d /host/lib/modules ]; then
    mount -t tmpfs tmpfs /host/lib/modules
    mkdir -p "/host/lib/modules/$REL"
    mount --bind "/lib/modules/$REL" "/host/lib/modules/$REL"
else
    say "WARNING: no /lib/modules/$REL in the chroot; modprobe there will fail"
fi

[ -n "$SCRIPT" ] || fail "no pcipt.script= on the kernel command line"
[ -f "/host$SCRIPT" ] || fail "guest script $SCRIPT not found on the host file system"

# Keep kernel messages off the console while the script runs (read them with dmesg).
dmesg -n "$LOGLEVEL" 2>/dev/null

if [ -x "/host$SCRIPT" ]; then RUN=; else RUN=/bin/sh; fi
# shellcheck disable=SC2086,SC2016 # ENVS is a list of NAME=value words; $0/$1 are for sh -c
set -- env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp DOTNET_CLI_HOME=/tmp TMPDIR=/tmp TERM=dumb LANG=C.UTF-8 \
    DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    DOTNET_GENERATE_ASPNET_CERTIFICATE=0 POWERSHELL_TELEMETRY_OPTOUT=1 \
    POWERSHELL_UPDATECHECK=Off PCIPT_GUEST=1 PCIPT_GUEST_RELEASE="$REL" \
    $ENVS \
    /bin/sh -c 'cd /tmp && exec $0 "$1"' "$RUN" "$SCRIPT"

echo "=== PCIPT-BEGIN $NONCE ==="
chroot /host "$@" </dev/null
rc=$?
echo "=== PCIPT-END rc=$rc $NONCE ==="
sync
poweroff -f
sleep 5
