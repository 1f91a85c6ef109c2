#!/usr/bin/env bash
# Prepares, once, the guest that reads a cloud-init seed ISO with Linux's own
# isofs (the seed test in app/src/images/seed/tools_tests.rs), in the tests'
# cache outside the repository (default /var/cache/stackyard-test, or
# $STACKYARD_GUEST_CACHE), and prints its directory:
#   isofs-guest-1/vmlinuz    Debian's cloud kernel (dpkg-deb -x, never installed)
#   isofs-guest-1/initrd.gz  busybox-static and, from the same kernel package,
#                            the modules for an IDE CD-ROM and ISO9660; its
#                            /init mounts /dev/sr0 and prints what it sees
#                            between STACKYARD-BEGIN and STACKYARD-END on
#                            ttyS0, then powers off.
# The kernel and its modules come from one package, so they always match.
# (The build machine's own kernel may have no ISO9660 at all, which is why
# the seed is not simply loop-mounted.) Nothing is downloaded from outside
# Debian's archive.
set -euo pipefail
cache=${STACKYARD_GUEST_CACHE:-/var/cache/stackyard-test}
# Versioned: a change to the guest below needs a new directory, or the
# cache would keep serving the old one.
dir=$cache/isofs-guest-1
mkdir -p "$dir"

# Parallel test runs may all ask for the guest: one builds, the others wait.
exec 9>"$cache/.isofs-guest.lock"
flock 9

if [ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.gz" ]; then
  echo "$dir"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `apt-get download` of one package into $work/debs; prints the .deb's path.
download() {
  mkdir -p "$work/debs"
  (cd "$work/debs" && apt-get download -q -o APT::Sandbox::User=root "$1" >/dev/null)
  ls "$work/debs"/"$1"_*.deb
}

kernel=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
[ -n "$kernel" ] || { echo "no cloud kernel package found" >&2; exit 1; }
dpkg-deb -x "$(download "$kernel")" "$work/kernel"
dpkg-deb -x "$(download busybox-static)" "$work/busybox"

root=$work/initrd
mkdir -p "$root"/{bin,dev,proc,sys,mnt,modules}
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
# In dependency order: the IDE controller QEMU's `pc` machine has (PIIX),
# SCSI CD-ROM on top of it, ISO9660.
modules=(scsi_common scsi_mod libata ata_piix cdrom sr_mod isofs)
for m in "${modules[@]}"; do
  ko=$(find "$work"/kernel/lib/modules -name "$m.ko" | head -n1)
  [ -n "$ko" ] || { echo "module $m not in $kernel" >&2; exit 1; }
  cp "$ko" "$root/modules/"
done
cat >"$root/init" <<INIT
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${modules[*]}; do insmod /modules/\$m.ko; done
i=0
while [ ! -b /dev/sr0 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
echo STACKYARD-BEGIN
if mount -t iso9660 -o ro /dev/sr0 /mnt; then
  ls -lnd /mnt
  ls -ln /mnt
  sha256sum /mnt/*
else
  echo STACKYARD-MOUNT-FAILED
fi
dmesg | grep -i 'iso'
echo STACKYARD-END
poweroff -f
INIT
chmod 0755 "$root/init"
cp "$work"/kernel/boot/vmlinuz-* "$dir/vmlinuz.part"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$dir/initrd.gz.part"
mv "$dir/vmlinuz.part" "$dir/vmlinuz"
mv "$dir/initrd.gz.part" "$dir/initrd.gz"
echo "$dir"
