#!/bin/sh
# Guest script (run by boot.sh inside the QEMU guest): hosts the PowerShell engine with the built module and runs the
# real-kernel scenarios. PCIPT_RUNNER and PCIPT_SCENARIOS (one scenario file, or several separated by commas, run in
# that order in one engine) come from pcipt.env. libvirt is started first (start-libvirt.sh), so that the VM
# scenarios find it; its verdict reaches them as PCIPT_LIBVIRT.
set -e
if [ -z "${PCIPT_RUNNER:-}" ] || [ -z "${PCIPT_SCENARIOS:-}" ]; then
    echo "run-scenarios.sh: PCIPT_RUNNER and PCIPT_SCENARIOS must be set (pcipt.env.NAME=value)" >&2
    exit 2
fi
# boot.sh runs a copy of this script when it lives under /tmp (a clone there): PCIPT_SCRIPT_DIR is its real folder.
HERE=$(cd "${PCIPT_SCRIPT_DIR:-$(dirname "$0")}" && pwd)
PCIPT_LIBVIRT=$(sh "$HERE/start-libvirt.sh" | sed -n 's/^libvirt=//p')
# The scenarios' own files (hold-vfio-device.py) and the testbed's (.work/mtty) are found from here.
PCIPT_SCENARIO_DIR=$(cd "$HERE/../PciPassthrough.RealKernel.Tests/Scenarios" && pwd)
export PCIPT_LIBVIRT PCIPT_SCENARIO_DIR
cd /tmp
IFS=,
# shellcheck disable=SC2086 # the comma-separated list is split on purpose
exec dotnet "$PCIPT_RUNNER" $PCIPT_SCENARIOS
