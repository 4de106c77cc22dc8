#!/bin/sh
# Guest helper: starts Debian's libvirt 9.0 inside the real-kernel guest's chroot, so that the scenarios
# start real (TCG) VMs with the devices the module bound. Everything it writes lands in the guest's in-RAM
# overlay and vanishes at power-off; nothing on this machine changes.
#
#   tests/RealKernel/start-libvirt.sh     prints "libvirt=ready <version>" or "libvirt=unavailable <why>"
#
# What libvirt 9.0 needs here (found in the testbed, see README.md "Real VMs"):
# - writable state, log and cache directories (tmpfs);
# - a qemu.conf that runs QEMU as root without cgroups, namespaces or a security driver (the chroot has
#   no systemd, no cgroup delegation and no AppArmor);
# - the libvirt-qemu user: libvirt resolves its built-in default user before it reads qemu.conf.
set -u

unavailable() { echo "libvirt=unavailable $*"; exit 0; }

command -v libvirtd >/dev/null 2>&1 || unavailable "libvirtd is not installed (apt-get install --no-install-recommends libvirt-daemon libvirt-daemon-driver-qemu)"
command -v virtlogd >/dev/null 2>&1 || unavailable "virtlogd is not installed"
command -v virsh >/dev/null 2>&1 || unavailable "virsh is not installed (libvirt-clients)"

for d in /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
    mkdir -p "$d" && mount -t tmpfs -o mode=0755 tmpfs "$d" || unavailable "cannot mount a tmpfs over $d"
done

# A private copy of /etc/libvirt: domain definitions written by the scenarios stay in the guest.
mkdir -p /run/pcipt-etc-libvirt
cp -a /etc/libvirt/. /run/pcipt-etc-libvirt/ 2>/dev/null
mkdir -p /etc/libvirt
mount --bind /run/pcipt-etc-libvirt /etc/libvirt || unavailable "cannot bind a copy of /etc/libvirt"
mkdir -p /etc/libvirt/qemu
cat >/etc/libvirt/qemu.conf <<'EOF'
user = "root"
group = "root"
cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
EOF

getent passwd libvirt-qemu >/dev/null 2>&1 \
    || echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >>/etc/passwd
getent group libvirt-qemu >/dev/null 2>&1 || echo 'libvirt-qemu:x:64055:' >>/etc/group
getent group kvm >/dev/null 2>&1 || echo 'kvm:x:64056:' >>/etc/group

virtlogd -d || unavailable "virtlogd did not start"
libvirtd -d || unavailable "libvirtd did not start"
i=0
while [ ! -S /run/libvirt/libvirt-sock ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
[ -S /run/libvirt/libvirt-sock ] || unavailable "libvirtd did not open /run/libvirt/libvirt-sock within 30 s"
version=$(virsh -c qemu:///system version --daemon 2>&1 | awk '/daemon/ { print $NF }')
echo "libvirt=ready ${version:-?}"
