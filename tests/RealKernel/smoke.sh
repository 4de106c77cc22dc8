#!/bin/bash
# Guest script: smoke test of the real-kernel testbed. Run it with
#   tests/RealKernel/boot.sh tests/RealKernel/smoke.sh
# (add PCIPT_NOVFIO=1 to exercise "modprobe vfio-pci" from inside the chroot).
# Prints the guest's device layout, moves the first e1000 and the e1000e to
# vfio-pci and back with the driver_override protocol, and runs dotnet.
# Exit status: the number of failed checks.
set -u

fails=0
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
section() { echo; echo "## $*"; }
check() { # <description> <command...>
    if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
driver_of() { # <pci address> -> driver name or "-"
    local l
    l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && basename "$l" || echo -
}
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

section kernel
uname -r
echo "uptime at script start: $(cut -d' ' -f1 /proc/uptime)s"
echo "cmdline: $(cat /proc/cmdline)"

section PCI devices
printf '%-13s %-10s %-9s %-6s %s\n' address ids class group driver
for d in /sys/bus/pci/devices/*; do
    a=${d##*/}
    printf '%-13s %-10s %-9s %-6s %s\n' "$a" \
        "$(cut -c3- "$d/vendor"):$(cut -c3- "$d/device")" "$(cat "$d/class")" \
        "$(group_of "$a")" "$(driver_of "$a")"
done

section IOMMU groups
# shellcheck disable=SC2012 # sysfs names are plain
ls -d /sys/kernel/iommu_groups/*/devices/* | sort -V
section /sys/class/iommu
ls /sys/class/iommu
section interrupt remapping
n=$(grep -c 'IR-' /proc/interrupts || true)
echo "IR- entries in /proc/interrupts: $n"
grep 'IR-' /proc/interrupts | head -n 4 | tr -s ' '
check "interrupt remapping active" test "$n" -gt 0
check "dmar0 present" test -e /sys/class/iommu/dmar0

section chroot environment
echo "modules dir: $(ls /lib/modules)"
check "/run/lock is writable" touch /run/lock/pcipt-smoke
check "/ is writable (overlay)" touch /pcipt-smoke
echo "mounts: $(awk '{print $2 "(" $3 ")"}' /proc/mounts | tr '\n' ' ')"

section vfio-pci driver
if [ -d /sys/bus/pci/drivers/vfio-pci ]; then
    echo "vfio-pci driver already registered (preloaded by /init)"
else
    echo "vfio-pci driver absent (pcipt.novfio=1); running modprobe vfio-pci in the chroot"
    t=$(now)
    check "modprobe vfio-pci" modprobe vfio-pci
    echo "modprobe took $(since "$t")s"
    check "vfio-pci driver registered" test -d /sys/bus/pci/drivers/vfio-pci
fi
grep -E '^(vfio|irqbypass)' /proc/modules | cut -d' ' -f1-4

rebind() { # <pci address> <native driver>
    local dev=$1 native=$2 sysd=/sys/bus/pci/devices/$1 grp
    grp=$(group_of "$dev")
    section "bind $dev ($native, group $grp) to vfio-pci and back"
    check "$dev starts on $native" test "$(driver_of "$dev")" = "$native"
    echo vfio-pci >"$sysd/driver_override"
    echo "$dev" >"$sysd/driver/unbind"
    echo "$dev" >/sys/bus/pci/drivers_probe
    check "$dev now on vfio-pci" test "$(driver_of "$dev")" = vfio-pci
    check "/dev/vfio/$grp exists" test -c "/dev/vfio/$grp"
    ls -l /dev/vfio
    echo >"$sysd/driver_override"
    echo "$dev" >/sys/bus/pci/drivers/vfio-pci/unbind
    echo "$dev" >/sys/bus/pci/drivers_probe
    check "$dev back on $native" test "$(driver_of "$dev")" = "$native"
    check "driver_override cleared" test "$(cat "$sysd/driver_override")" = "(null)"
    check "/dev/vfio/$grp gone" test ! -e "/dev/vfio/$grp"
}
first_e1000=
e1000e=
for d in /sys/bus/pci/devices/*; do
    a=${d##*/}
    case "$(driver_of "$a")" in
        e1000) [ -n "$first_e1000" ] || first_e1000=$a ;;
        e1000e) [ -n "$e1000e" ] || e1000e=$a ;;
    esac
done
t=$(now)
if [ -n "$first_e1000" ]; then rebind "$first_e1000" e1000; else check "an e1000 is present" false; fi
if [ -n "$e1000e" ]; then rebind "$e1000e" e1000e; else check "an e1000e is present" false; fi
echo "both rebinds took $(since "$t")s"

section dotnet
t=$(now)
dotnet --info 2>&1 | head -n 5
echo "dotnet --info took $(since "$t")s"
check "dotnet runs" dotnet --list-runtimes

section result
echo "uptime at script end: $(cut -d' ' -f1 /proc/uptime)s"
echo "failed checks: $fails"
exit "$fails"
