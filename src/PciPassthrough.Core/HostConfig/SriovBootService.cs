namespace PciPassthrough.HostConfig;

/// <summary>
/// The boot-time SR-IOV setup: a POSIX sh script (no PowerShell at boot) run by a oneshot unit before the network
/// and before vfio-bind.service (which binds VFs, so they must exist first), with its PFs in
/// /etc/sysconfig/pcipassthrough-sriov (<see cref="SriovBootConfiguration"/>). The pattern of one-deploy's
/// sriov-enable@ and sriov-network-operator's pre-network unit, with vfio-bind's protection against a card that
/// moved: the vendor:device each PF had when configured is checked before anything is written.
/// </summary>
public static class SriovBootService
{
    public const string ScriptPath = "/usr/local/bin/pcipassthrough-sriov";
    public const string UnitPath = "/etc/systemd/system/pcipassthrough-sriov.service";
    public const string UnitName = "pcipassthrough-sriov.service";

    // DefaultDependencies=no so that it can run before network-pre.target (sysinit would order it later);
    // Wants= + Before=network-pre.target is systemd's documented way to run before any network is configured.
    public const string Unit = """
        [Unit]
        Description=Creates SR-IOV virtual functions (PciPassthrough)
        DefaultDependencies=no
        After=systemd-modules-load.service systemd-udev-trigger.service local-fs.target
        Wants=network-pre.target
        Before=network-pre.target vfio-bind.service libvirtd.service shutdown.target
        Conflicts=shutdown.target

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        TimeoutStartSec=10min
        ExecStart=/usr/local/bin/pcipassthrough-sriov

        [Install]
        WantedBy=multi-user.target

        """;

    public const string Script = """
        #!/bin/sh
        # pcipassthrough-sriov, written by PciPassthrough (Set-VfioHostConfiguration).
        # Creates the SR-IOV virtual functions of /etc/sysconfig/pcipassthrough-sriov at boot, before the network
        # and before vfio-bind.service binds VFs, then gives the VFs their admin attributes (ip link set ... vf N).
        # It never takes another card: a PF whose vendor:device is not the configured one (a card added or moved
        # renumbers buses) is skipped with a message. It never holds the boot: writes have a timeout, waits are
        # bounded, a skipped PF is no failure. Exit 1 only when a configured change failed.
        # PCIPASSTHROUGH_ROOT prefixes every path (a captured tree); there only PCIPASSTHROUGH_IP is run as ip,
        # since the host's own ip would change this host's network.
        set -u
        set -f  # the ip arguments are split on blanks, never globbed
        root=${PCIPASSTHROUGH_ROOT:-}
        config=${1:-$root/etc/sysconfig/pcipassthrough-sriov}
        wait=${PCIPASSTHROUGH_SRIOV_WAIT:-30}
        if [ -n "$root" ]; then ip=${PCIPASSTHROUGH_IP:-}; else ip=${PCIPASSTHROUGH_IP:-ip}; fi
        log() { echo "pcipassthrough-sriov: $*" >&2; }
        # A driver can block a sriov_numvfs write (a VF held open): give up after 2 minutes, as sriov-network-operator does.
        put() {
            if command -v timeout >/dev/null 2>&1; then timeout 120 sh -c 'echo "$1" > "$2"' sh "$1" "$2"; else echo "$1" > "$2"; fi
        }
        # The PF's netdev that ip names: with several (switchdev), the port's own (phys_port_name pN), as OpenNebula's vf.rb.
        netdev_of() {
            first=""
            chosen=""
            set +f
            for n in "$1"/net/*; do
                [ -e "$n" ] || continue
                [ -n "$first" ] || first=${n##*/}
                case "$(cat "$n/phys_port_name" 2>/dev/null)" in p[0-9]*) [ -n "$chosen" ] || chosen=${n##*/} ;; esac
            done
            set -f
            echo "${chosen:-$first}"
        }
        [ -r "$config" ] || { log "no $config: nothing to do"; exit 0; }
        rc=0
        ready=" "
        while read -r kind dev ids count autoprobe extra <&3; do
            [ "$kind" = pf ] || continue
            case "$dev" in *[!0-9a-f:.]* | "") log "'$dev' is not a PCI address; skipped"; rc=1; continue ;; esac
            case "$count" in *[!0-9]* | "") log "$dev: '$count' is not a VF count; skipped"; rc=1; continue ;; esac
            case "$autoprobe" in 0 | 1) ;; *) log "$dev: autoprobe '$autoprobe' is not 0 or 1; skipped"; rc=1; continue ;; esac
            d=$root/sys/bus/pci/devices/$dev
            if [ ! -e "$d/vendor" ]; then log "no device $dev; skipped"; continue; fi
            actual="$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")"
            if [ "$actual" != "$ids" ]; then
                log "$dev is now $actual, not the $ids it was configured for; skipped"
                continue
            fi
            if [ ! -e "$d/sriov_numvfs" ]; then log "$dev has no sriov_numvfs (no SR-IOV, or disabled in its firmware); skipped"; continue; fi
            # The PF's driver may still be probing, and without one the kernel cannot create VFs (ENOENT).
            waited=0
            while [ ! -e "$d/driver" ] && [ "$waited" -lt "$wait" ]; do sleep 1; waited=$((waited + 1)); done
            if [ ! -e "$d/driver" ]; then log "$dev has no driver after $wait s: its VFs cannot be created"; rc=1; continue; fi
            current=$(cat "$d/sriov_numvfs")
            if [ "$current" != "$count" ] && [ "$current" != 0 ]; then
                # The kernel refuses to change a non-zero count (EBUSY): through 0.
                log "$dev: removing its $current VFs first"
                put 0 "$d/sriov_numvfs" || { log "$dev: writing 0 to sriov_numvfs failed"; rc=1; continue; }
            fi
            # Autoprobe applies to the VFs created after it is written: before them.
            if [ -e "$d/sriov_drivers_autoprobe" ] && [ "$(cat "$d/sriov_drivers_autoprobe")" != "$autoprobe" ]; then
                log "$dev: sriov_drivers_autoprobe $autoprobe"
                put "$autoprobe" "$d/sriov_drivers_autoprobe" || { log "$dev: writing $autoprobe to sriov_drivers_autoprobe failed"; rc=1; continue; }
            fi
            if [ "$current" = "$count" ]; then
                log "$dev has its $count VFs already"
            elif [ "$count" != 0 ]; then
                log "$dev: creating $count VFs"
                put "$count" "$d/sriov_numvfs" || { log "$dev: writing $count to sriov_numvfs failed"; rc=1; continue; }
                now=$(cat "$d/sriov_numvfs")
                [ "$now" = "$count" ] || { log "$dev: the driver enabled $now of the $count VFs"; rc=1; }
            fi
            ready="$ready$dev "
        done 3< "$config"
        while read -r kind dev index args <&3; do
            [ "$kind" = vf ] || continue
            case "$ready" in *" $dev "*) ;; *) continue ;; esac  # its PF was skipped: never touch another card's VFs
            case "$index" in *[!0-9]* | "") log "$dev: '$index' is not a VF index; skipped"; rc=1; continue ;; esac
            bad=""
            for a in $args; do case "$a" in *[!0-9A-Za-z:._]*) bad=$a ;; esac; done
            if [ -n "$bad" ] || [ -z "$args" ]; then log "$dev vf $index: '$args' are not ip link arguments; skipped"; rc=1; continue; fi
            if [ -z "$ip" ]; then log "$dev vf $index: no ip to run under $root (PCIPASSTHROUGH_IP); skipped"; continue; fi
            d=$root/sys/bus/pci/devices/$dev
            netdev=$(netdev_of "$d")
            waited=0
            while [ -z "$netdev" ] && [ "$waited" -lt "$wait" ]; do sleep 1; waited=$((waited + 1)); netdev=$(netdev_of "$d"); done
            if [ -z "$netdev" ]; then log "$dev has no network interface: vf $index keeps its defaults"; rc=1; continue; fi
            log "$dev vf $index: ip link set dev $netdev vf $index $args"
            "$ip" link set dev "$netdev" vf "$index" $args < /dev/null || { log "$dev vf $index: ip failed"; rc=1; }
        done 3< "$config"
        exit $rc

        """;
}
