#!/usr/bin/env bash
# Prepare the real-kernel testbed: a Debian kernel (unpacked, not installed),
# a static busybox and a small initramfs whose /init is guest-init.sh.
# Idempotent; a no-op taking well under a second when everything is in place.
#
#   tests/RealKernel/prepare.sh [--refresh]
#
# --refresh (or PCIPT_REFRESH=1): ask apt again for the current kernel package
#     instead of reusing the one already prepared.
# PCIPT_KERNEL_PKG=linux-image-...: use that kernel package.
# Result: .work/env (shell syntax: PCIPT_RELEASE, PCIPT_KERNEL, PCIPT_INITRD),
# whose content is also printed on stdout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK="$HERE/.work"
INIT_SRC="$HERE/guest-init.sh"
ENV_FILE="$WORK/env"

# Modules the guest loads; their dependencies are added from modules.dep.
MODULES=(virtio_pci 9pnet_virtio 9p overlay e1000 e1000e pps_core ptp
         vfio vfio_iommu_type1 vfio_pci
         lpc_ich ahci i2c_i801)
# SR-IOV (issue 15): the emulated NVMe PF has no host driver here; pci-pf-stub lets it enable VFs.
MODULES+=(pci_pf_stub)
# Mediated devices (issue 17): the mdev core, for the mtty sample built below.
MODULES+=(mdev)

REFRESH=${PCIPT_REFRESH:-0}
[ "${1:-}" = --refresh ] && REFRESH=1

log() { echo "prepare: $*" >&2; }
die() { echo "prepare: ERROR: $*" >&2; exit 1; }

mkdir -p "$WORK"
exec 9>"$WORK/.prepare.lock"
flock 9

# --- host packages ------------------------------------------------------------
APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        apt-get update -qq >&2
        APT_UPDATED=1
    fi
}

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
{ [ -x /sbin/depmod ] && [ -x /sbin/modprobe ]; } || missing+=(kmod)
command -v cpio >/dev/null || missing+=(cpio)
# SR-IOV scenarios hold a VFIO device fd with a few lines of python (its fcntl.ioctl).
[ -x /usr/bin/python3 ] || missing+=(python3-minimal)
# The VM scenarios (issue 23): Debian's libvirt 9.0 starts second-level VMs in the guest (start-libvirt.sh), with the
# same qemu-system-x86 and its SeaBIOS; setpriv (util-linux) runs the module as a user who is not root.
command -v libvirtd >/dev/null || missing+=(libvirt-daemon)
compgen -G "/usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so" >/dev/null || missing+=(libvirt-daemon-driver-qemu)
command -v virsh >/dev/null || missing+=(libvirt-clients)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
    apt_update_once
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
fi

# apt-get download writes to the current directory; running as root it warns
# that the _apt user cannot write there, which is harmless.
apt_download() { # <package> : download into $WORK, retry once after apt-get update
    (cd "$WORK" && apt-get download -qq "$1" 2>/dev/null) && return 0
    apt_update_once
    (cd "$WORK" && apt-get download -qq "$1" 2>&1 | grep -v 'unsandboxed' >&2) || true
    compgen -G "$WORK/${1}_*.deb" >/dev/null || die "cannot download $1"
}

# --- kernel -------------------------------------------------------------------
KPKG=${PCIPT_KERNEL_PKG:-}
if [ -z "$KPKG" ] && [ "$REFRESH" != 1 ] && [ -f "$WORK/kernel-package" ]; then
    KPKG=$(cat "$WORK/kernel-package")
fi
if [ -z "$KPKG" ]; then
    resolve() { apt-cache depends linux-image-amd64 2>/dev/null \
                | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
    KPKG=$(resolve)
    if [ -z "$KPKG" ]; then apt_update_once; KPKG=$(resolve); fi
    [ -n "$KPKG" ] || die "cannot resolve the kernel package behind linux-image-amd64"
fi
RELEASE=${KPKG#linux-image-}
KROOT="$WORK/kroot"
KERNEL="$KROOT/boot/vmlinuz-$RELEASE"
MODDIR="$KROOT/lib/modules/$RELEASE"

if [ ! -f "$MODDIR/modules.dep" ] || [ ! -f "$KERNEL" ]; then
    deb=$(compgen -G "$WORK/${KPKG}_*.deb" | tail -n1 || true)
    if [ -z "$deb" ]; then
        log "downloading $KPKG"
        apt_download "$KPKG"
        deb=$(compgen -G "$WORK/${KPKG}_*.deb" | tail -n1)
    fi
    log "unpacking $(basename "$deb")"
    rm -rf "$KROOT"
    dpkg -x "$deb" "$KROOT"
    [ -f "$KERNEL" ] || die "no $KERNEL in $deb"
    /sbin/depmod -b "$KROOT" "$RELEASE"
fi
echo "$KPKG" >"$WORK/kernel-package"

# --- busybox ------------------------------------------------------------------
is_static() { [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1; }
BUSYBOX=
for cand in "$WORK/busybox/bin/busybox" /bin/busybox /usr/bin/busybox; do
    if is_static "$cand"; then BUSYBOX=$cand; break; fi
done
if [ -z "$BUSYBOX" ]; then
    log "downloading busybox-static"
    apt_download busybox-static
    rm -rf "$WORK/busybox"
    dpkg -x "$(compgen -G "$WORK/busybox-static_*.deb" | tail -n1)" "$WORK/busybox"
    BUSYBOX="$WORK/busybox/bin/busybox"
    is_static "$BUSYBOX" || die "$BUSYBOX is not a static executable"
fi

# --- initramfs ----------------------------------------------------------------
INITRD="$WORK/initramfs-$RELEASE.cpio.gz"
STAMP=$( { sha256sum "$INIT_SRC" "${BASH_SOURCE[0]}" "$BUSYBOX" "$MODDIR/modules.dep" \
             | awk '{print $1}'; echo "${MODULES[*]}"; } | sha256sum | awk '{print $1}')
if [ ! -f "$INITRD" ] || [ "$(cat "$INITRD.stamp" 2>/dev/null)" != "$STAMP" ]; then
    log "building $(basename "$INITRD")"

    # Module closure: modules.dep already lists transitive dependencies; awk
    # also follows them (and modules.softdep) until nothing new appears.
    # Output: "<name> <path relative to $MODDIR>" or "<name> -" if not a module file.
    CLOSURE=$(awk -v want="${MODULES[*]}" '
        function norm(p,  b) { b = p; sub(/.*\//, "", b); sub(/\.ko.*/, "", b); gsub(/-/, "_", b); return b }
        FILENAME ~ /modules\.dep$/ {
            m = $1; sub(/:$/, "", m); n = norm(m); path[n] = m; deps[n] = ""
            for (i = 2; i <= NF; i++) deps[n] = deps[n] " " norm($i)
            next
        }
        $1 == "softdep" {
            n = norm($2)
            for (i = 3; i <= NF; i++) if ($i !~ /:$/) soft[n] = soft[n] " " norm($i)
        }
        END {
            nq = split(want, q, " ")
            for (h = 1; h <= nq; h++) {
                n = norm(q[h]); if (n in seen) continue; seen[n] = 1
                if (!(n in path)) { print n, "-"; continue }
                print n, path[n]
                k = split(deps[n] " " soft[n], more, " ")
                for (j = 1; j <= k; j++) q[++nq] = more[j]
            }
        }' "$MODDIR/modules.dep" "$MODDIR/modules.softdep")
    # Requested names that are not module files must be built in (e.g. pps, ptp);
    # soft dependencies for other architectures (vfio_iommu_spapr_tce) are skipped.
    while read -r n p; do
        if [ "$p" = - ] && [[ " ${MODULES[*]} " == *" $n "* ]]; then
            grep -qE "/${n//_/[-_]}\.ko\$" "$MODDIR/modules.builtin" \
                || die "module $n is neither shipped nor built in"
        fi
    done <<<"$CLOSURE"

    STAGE="$WORK/initramfs.stage"
    rm -rf "$STAGE"
    mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lower,upper,host}
    mkdir -p "$STAGE/lib/modules/$RELEASE"
    cp "$BUSYBOX" "$STAGE/bin/busybox"
    "$BUSYBOX" --list-full | while read -r applet; do
        [ -e "$STAGE/$applet" ] || ln -s /bin/busybox "$STAGE/$applet"
    done
    while read -r n p; do
        [ "$p" = - ] && continue
        mkdir -p "$STAGE/lib/modules/$RELEASE/$(dirname "$p")"
        cp "$MODDIR/$p" "$STAGE/lib/modules/$RELEASE/$p"
    done <<<"$CLOSURE"
    for f in modules.builtin modules.builtin.modinfo modules.order; do
        [ -f "$MODDIR/$f" ] && cp "$MODDIR/$f" "$STAGE/lib/modules/$RELEASE/"
    done
    # Regenerate modules.* for the subset actually shipped.
    /sbin/depmod -b "$STAGE" "$RELEASE"
    for m in "${MODULES[@]}"; do
        /sbin/modprobe -d "$STAGE" -S "$RELEASE" --show-depends "$m" >/dev/null 2>&1 \
            || die "module $m cannot be loaded from the initramfs tree"
    done
    install -m 0755 "$INIT_SRC" "$STAGE/init"

    (cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort \
        | cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$INITRD.tmp"
    mv "$INITRD.tmp" "$INITRD"
    echo "$STAMP" >"$INITRD.stamp"
    log "$(find "$STAGE/lib/modules" -name '*.ko*' | wc -l) modules, initramfs $(du -h "$INITRD" | cut -f1)"
    rm -rf "$STAGE"
fi

# --- mtty sample (issue 17) ---------------------------------------------------
# Debian does not build the kernel's samples (CONFIG_SAMPLES is not set), so mtty.ko, a mediated-device
# parent that is no PCI device, is built here from linux-source-6.1's samples/vfio-mdev/mtty.c with the
# release's linux-headers (a few seconds), and cached as .work/mtty/mtty-<release>.ko. It loads unsigned.
# Failure never fails prepare.sh: .work/mtty/skip-reason says why, and the mdev real-kernel tests skip.
build_mtty() {
    local dir="$WORK/mtty" ko="$WORK/mtty/mtty-$RELEASE.ko" hdr="/usr/src/linux-headers-$RELEASE"
    mkdir -p "$dir"
    [ -f "$ko" ] && { rm -f "$dir/skip-reason"; return 0; }
    if [ ! -d "$hdr" ]; then
        [ "$(id -u)" = 0 ] || { echo "linux-headers-$RELEASE is not installed (run prepare.sh as root)" >"$dir/skip-reason"; return 1; }
        apt_update_once
        log "apt-get install linux-headers-$RELEASE make gcc"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "linux-headers-$RELEASE" make gcc >&2 \
            || { echo "cannot install linux-headers-$RELEASE from apt" >"$dir/skip-reason"; return 1; }
    fi
    if [ ! -f "$dir/mtty.c" ]; then
        # The source package of the same Debian version as the kernel, else the current one.
        local version src
        version=$(dpkg-deb -f "$(compgen -G "$WORK/${KPKG}_*.deb" | tail -n1)" Version 2>/dev/null || true)
        (cd "$dir" && { apt-get download -qq "linux-source-6.1=$version" 2>/dev/null || apt-get download -qq linux-source-6.1 2>/dev/null; }) \
            || { apt_update_once; (cd "$dir" && apt-get download -qq linux-source-6.1 2>/dev/null); } \
            || { echo "cannot download linux-source-6.1" >"$dir/skip-reason"; return 1; }
        src=$(compgen -G "$dir/linux-source-6.1_*.deb" | tail -n1)
        log "extracting samples/vfio-mdev/mtty.c from $(basename "$src")"
        dpkg-deb --fsys-tarfile "$src" | tar -xO --wildcards '*/linux-source-6.1.tar.xz' \
            | tar -xJO --wildcards '*/samples/vfio-mdev/mtty.c' >"$dir/mtty.c.tmp" && [ -s "$dir/mtty.c.tmp" ] \
            || { rm -f "$dir/mtty.c.tmp"; echo "no samples/vfio-mdev/mtty.c in $src" >"$dir/skip-reason"; return 1; }
        mv "$dir/mtty.c.tmp" "$dir/mtty.c"
        rm -f "$src"
    fi
    echo 'obj-m := mtty.o' >"$dir/Kbuild"
    log "building mtty.ko for $RELEASE"
    make -s -C "$hdr" M="$dir" modules >&2 || { echo "building mtty.ko against $hdr failed" >"$dir/skip-reason"; return 1; }
    mv "$dir/mtty.ko" "$ko"
    rm -f "$dir/skip-reason"
}
build_mtty || log "WARNING: no mtty.ko ($(cat "$WORK/mtty/skip-reason" 2>/dev/null)); the mdev real-kernel tests will be skipped"

cat >"$ENV_FILE.tmp" <<EOF
PCIPT_RELEASE=$RELEASE
PCIPT_KERNEL=$KERNEL
PCIPT_INITRD=$INITRD
EOF
mv "$ENV_FILE.tmp" "$ENV_FILE"
cat "$ENV_FILE"
