#!/usr/bin/env bash
# Prepares the guests the console tests boot, from Debian packages, in a
# cache outside the repository (default /var/cache/stackyard-test, or
# $STACKYARD_GUEST_CACHE), and prints its directory:
#   grub-rescue.iso  Debian's grub-rescue-pc CD image: a GRUB menu in ~3 s
#                    under TCG (the VNC console's test: `c`, `halt`, Enter)
#   vmlinuz          Debian's cloud kernel (dpkg-deb -x, never installed)
#   initrd.gz        busybox-static as /init with a shell on ttyS0 (the
#                    serial console's test)
# Nothing is downloaded from outside Debian's archive; each file is made
# once and kept.
set -euo pipefail
cache=${STACKYARD_GUEST_CACHE:-/var/cache/stackyard-test}
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `apt-get download` of the package a name depends on first (a
# metapackage's kernel), into $work/debs.
download() {
  mkdir -p "$work/debs"
  (cd "$work/debs" && apt-get download -q -o APT::Sandbox::User=root "$1" >/dev/null)
  ls "$work/debs"/"$1"_*.deb
}

if [ ! -s "$cache/grub-rescue.iso" ]; then
  deb=$(download grub-rescue-pc)
  dpkg-deb -x "$deb" "$work/grub"
  cp "$work/grub/usr/lib/grub-rescue/grub-rescue-cdrom.iso" "$cache/grub-rescue.iso.part"
  mv "$cache/grub-rescue.iso.part" "$cache/grub-rescue.iso"
fi

if [ ! -s "$cache/vmlinuz" ]; then
  kernel=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
  [ -n "$kernel" ] || { echo "no cloud kernel package found" >&2; exit 1; }
  deb=$(download "$kernel")
  dpkg-deb -x "$deb" "$work/kernel"
  cp "$work"/kernel/boot/vmlinuz-* "$cache/vmlinuz.part"
  mv "$cache/vmlinuz.part" "$cache/vmlinuz"
fi

if [ ! -s "$cache/initrd.gz" ]; then
  deb=$(download busybox-static)
  dpkg-deb -x "$deb" "$work/busybox"
  root="$work/initrd"
  mkdir -p "$root"/{bin,dev,proc,sys}
  cp "$work/busybox/bin/busybox" "$root/bin/busybox"
  for applet in sh mount echo cat poweroff setsid cttyhack; do
    ln -s busybox "$root/bin/$applet"
  done
  cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "stackyard test guest ready"
while true; do setsid cttyhack sh; done
INIT
  chmod 0755 "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$cache/initrd.gz.part"
  mv "$cache/initrd.gz.part" "$cache/initrd.gz"
fi
echo "$cache"
