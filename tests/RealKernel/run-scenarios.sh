#!/bin/sh
# Guest script (run by boot.sh inside the QEMU guest): hosts the PowerShell engine with the built
# module and runs the real-kernel scenarios. PCIPT_RUNNER and PCIPT_SCENARIOS come from pcipt.env.
set -e
if [ -z "${PCIPT_RUNNER:-}" ] || [ -z "${PCIPT_SCENARIOS:-}" ]; then
    echo "run-scenarios.sh: PCIPT_RUNNER and PCIPT_SCENARIOS must be set (pcipt.env.NAME=value)" >&2
    exit 2
fi
cd /tmp
exec dotnet "$PCIPT_RUNNER" "$PCIPT_SCENARIOS"
