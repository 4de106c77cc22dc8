namespace PciPassthrough.HostConfig;

/// <summary>
/// The guide's boot-time binding (a oneshot unit running vfio-bind with DEVICES from
/// /etc/sysconfig/vfio-bind), but binding with driver_override and checking the result, instead of
/// new_id, which captures every card with the same ids.
/// </summary>
public static class VfioBindService
{
    public const string ScriptPath = "/usr/local/bin/vfio-bind";
    public const string UnitPath = "/etc/systemd/system/vfio-bind.service";

    public static string Config(IReadOnlyList<PciDevice> devices) => Config(devices.Select(d => (d.PciAddress, $"{d.VendorId}:{d.DeviceId}")).ToList());

    /// <summary>The config for these addresses, each with the vendor:device it must have to be bound.</summary>
    public static string Config(IReadOnlyList<(string Address, string Ids)> devices) =>
        "# Written by PciPassthrough (Set-VfioHostConfiguration): the devices vfio-bind.service binds at boot.\n" +
        $"DEVICES=\"{string.Join(' ', devices.Select(d => d.Address))}\"\n" +
        "# The ids each address had when it was configured: vfio-bind skips an address whose device has\n" +
        "# changed (a card added or moved renumbers buses), so it never takes another device.\n" +
        $"DEVICE_IDS=\"{string.Join(' ', devices.Where(d => d.Ids.Length > 0).Select(d => $"{d.Address}={d.Ids}"))}\"\n";

    // After pcipassthrough-sriov.service: a VF in DEVICES exists only once that unit has created it.
    public const string Unit = """
        [Unit]
        Description=Binds devices to vfio-pci
        After=syslog.target pcipassthrough-sriov.service
        Before=libvirtd.service

        [Service]
        EnvironmentFile=-/etc/sysconfig/vfio-bind
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=-/usr/local/bin/vfio-bind $DEVICES

        [Install]
        WantedBy=multi-user.target

        """;

    public const string Script = """
        #!/bin/sh
        # vfio-bind, written by PciPassthrough (Set-VfioHostConfiguration).
        # Binds each PCI address given to vfio-pci with driver_override, which captures only that device
        # (new_id would capture every card with the same ids), and checks that vfio-pci really bound it.
        # A device that does not bind is given back to its host driver, never left without a driver.
        set -u
        [ -d /sys/bus/pci/drivers/vfio-pci ] || modprobe vfio-pci || { echo "vfio-bind: cannot load vfio-pci" >&2; exit 1; }
        rc=0
        for dev in "$@"; do
            case "$dev" in
                *[!0-9a-f:.]* | "") echo "vfio-bind: '$dev' is not a PCI address" >&2; rc=1; continue ;;
            esac
            d=/sys/bus/pci/devices/$dev
            if [ ! -e "$d" ]; then echo "vfio-bind: no device $dev" >&2; rc=1; continue; fi
            expected=""
            for pair in ${DEVICE_IDS:-}; do
                case "$pair" in "$dev="*) expected=${pair#*=} ;; esac
            done
            actual="$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")"
            if [ -n "$expected" ] && [ "$actual" != "$expected" ]; then
                echo "vfio-bind: $dev is now $actual, not the $expected it was configured for; skipped" >&2
                rc=1
                continue
            fi
            current=""
            [ -e "$d/driver" ] && current=$(basename "$(readlink "$d/driver")")
            [ "$current" = vfio-pci ] && continue
            echo vfio-pci > "$d/driver_override"
            [ -n "$current" ] && echo "$dev" > "$d/driver/unbind"
            echo "$dev" > /sys/bus/pci/drivers_probe
            bound=""
            [ -e "$d/driver" ] && bound=$(basename "$(readlink "$d/driver")")
            if [ "$bound" != vfio-pci ]; then
                echo "vfio-bind: $dev did not bind to vfio-pci; returning it to ${current:-no driver}" >&2
                echo > "$d/driver_override"
                [ -e "$d/driver" ] || echo "$dev" > /sys/bus/pci/drivers_probe
                rc=1
            fi
        done
        exit $rc

        """;
}
