#!/usr/bin/env bash
# Builds, once, a small bootable Debian 12 (bookworm, amd64) cloud disk image
# with cloud-init, from Debian packages only, in the tests' cache outside the
# repository (default /var/cache/stackyard-test, or $STACKYARD_GUEST_CACHE):
#   debian-12-cloud.qcow2  MBR disk, one ext4 root partition (by UUID), GRUB
#                          on the MBR (boots under SeaBIOS as a plain virtio
#                          disk), Debian's cloud kernel with console=ttyS0,
#                          cloud-init reading NoCloud seeds (network-config v2
#                          rendered to ifupdown), openssh-server, growpart.
# The image is made once and kept; a second run only reports it. Progress
# and the summary go to stderr, the image's path is the only line on stdout.
# Needs root (loop devices, mount, chroot).
#
#   scripts/cloud-image.sh           build or reuse, print the path
#   scripts/cloud-image-smoke.sh     boot it under TCG with a NoCloud seed
set -euo pipefail
cache=${STACKYARD_GUEST_CACHE:-/var/cache/stackyard-test}
image=$cache/debian-12-cloud.qcow2
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
disk_size=2G

say() { echo "cloud image: $*" >&2; }

# "287 MiB (virtual 2.0 GiB)"
sizes() {
  local bytes virtual
  bytes=$(stat -c %s "$1")
  virtual=$(qemu-img info --output=json "$1" | sed -n 's/^ *"virtual-size": \([0-9]*\),*$/\1/p')
  awk -v b="$bytes" -v v="$virtual" 'BEGIN { printf "%d MiB (virtual %.1f GiB)\n", b / 1048576, v / 1073741824 }'
}

reused() {
  say "reused $image, $(sizes "$image")"
  echo "$image"
  exit 0
}
# Only a finished image ever has the name, so it is reused without the lock
# (and without write access to the cache).
[ ! -s "$image" ] || reused
# Parallel test runs may all ask for the image: one builds, the others wait
# and reuse it.
mkdir -p "$cache"
exec 9>"$cache/.debian-12-cloud.lock"
flock 9
[ ! -s "$image" ] || reused

[ "$(id -u)" -eq 0 ] || { echo "cloud-image.sh: building needs root (loop devices, mount, chroot)" >&2; exit 1; }

# The host's tools: mmdebstrap bootstraps, sfdisk (fdisk) partitions,
# qemu-img (qemu-utils) converts; e2fsprogs and util-linux (partx, losetup)
# are always there. GRUB comes from the image's own packages.
tools=(mmdebstrap fdisk qemu-utils)
missing=()
for pkg in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A build killed outright (SIGKILL: no trap) leaves its work directory,
# perhaps still mounted and on a loop device. Under the lock no other build
# runs, so whatever is there is stale: unmount (deepest first), detach, remove.
for stale in "$cache"/.debian-12-cloud.*/; do
  [ -d "$stale" ] || continue
  findmnt -rn -o TARGET | grep -F "${stale%/}/" | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  losetup -n -O NAME -j "${stale}disk.raw" | while read -r l; do
    partx -d "$l" 2>/dev/null || true
    losetup -d "$l"
  done
  rm -rf "$stale"
done
rm -f "$image.part"

start=$SECONDS
log=$cache/debian-12-cloud.log
: >"$log"
work=$(mktemp -d "$cache/.debian-12-cloud.XXXXXX")
chmod 0755 "$work"   # apt's _apt user downloads into the image's root
raw=$work/disk.raw
mnt=$work/root
mkdir "$mnt"
loop=
node=       # a partition node we made ourselves (no devtmpfs), removed again
mounts=()   # what we mounted, unmounted in reverse on every exit path
child=      # the step running now

cleanup() {
  local rc=$? i
  set +e
  # Interrupted during a step: stop it, all its processes, first
  # (mmdebstrap then undoes its own mounts).
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child"
    wait "$child"
  fi
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}"
  done
  if [ -n "$loop" ]; then
    partx -d "$loop" 2>/dev/null
    losetup -d "$loop"
  fi
  [ -z "$node" ] || rm -f "$node"
  rm -rf "$work" "$image.part"
  if [ "$rc" -ne 0 ]; then
    echo "cloud-image.sh: build failed; the last lines of $log:" >&2
    tail -n 30 "$log" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a step with its output in the log (shown if the build fails). In the
# background and waited for, so that a signal reaches the trap at once rather
# than after a minutes-long mmdebstrap; in a process group of its own (setsid
# without a fork: its pid is the group's) for the trap to stop as a whole.
step() {
  local rc=0
  setsid "$@" >>"$log" 2>&1 &
  child=$!
  wait "$child" || rc=$?
  child=
  return "$rc"
}

say "building $image (log: $log)"

# A sparse raw disk with one bootable partition from 1 MiB (the gap before it
# holds GRUB's core.img) to the end.
truncate -s "$disk_size" "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | step sfdisk -q "$raw"
loop=$(losetup -f --show "$raw")
# `losetup -P` does not create the partition in a container without udev;
# partx asks the kernel for it, and devtmpfs (or mknod) gives the node.
part=${loop}p1
[ -e "/sys/class/block/${part#/dev/}" ] || step partx -a "$loop"
for _ in $(seq 50); do [ -e "/sys/class/block/${part#/dev/}/dev" ] && break; sleep 0.1; done
if [ ! -b "$part" ]; then
  devno=$(cat "/sys/class/block/${part#/dev/}/dev")
  mknod "$part" b "${devno%:*}" "${devno#*:}"
  node=$part
fi
step mkfs.ext4 -q -L root "$part"
uuid=$(blkid -s UUID -o value "$part")
mount "$part" "$mnt"
mounts+=("$mnt")
# Nothing mounted below the image's root propagates back to the host.
mount --make-private "$mnt"

# minbase (Essential plus apt) and only what a cloud VM needs, without
# Recommends. ifupdown because cloud-init's Debian renderer (eni) writes
# network-config there; resolvconf applies its nameservers (dns-nameservers);
# isc-dhcp-client serves the DHCP fallback when a seed has no network-config;
# dbus lets cloud-init set the hostname through hostnamectl.
packages=(
  linux-image-cloud-amd64 grub-pc systemd-sysv udev dbus libpam-systemd
  cloud-init cloud-guest-utils openssh-server sudo
  ifupdown isc-dhcp-client resolvconf iproute2 netbase ca-certificates
  systemd-timesyncd procps
)
# Documentation, man pages and translations are left out (the copyright
# files stay); the rule stays in the image for packages installed later.
# The merged-usr hook makes /bin, /lib... symlinks as debootstrap does and
# installs usr-is-merged, so that apt does not pick usrmerge (and the 45 MB
# of perl it needs) for init-system-helpers.
step nice -n 10 mmdebstrap --mode=root --variant=minbase --architectures=amd64 \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  bookworm "$mnt" \
  "deb $mirror bookworm main" \
  "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main"

cat >"$mnt/etc/fstab" <<EOF
UUID=$uuid / ext4 errors=remount-ro 0 1
EOF

# GRUB: no menu wait, kernel messages and the login on the serial line (the
# last console= is /dev/console) as well as on the screen.
mkdir -p "$mnt/etc/default/grub.d"
cat >"$mnt/etc/default/grub.d/50-stackyard.cfg" <<'EOF'
GRUB_TIMEOUT=0
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_OS_PROBER=true
EOF

# Only NoCloud (a `cidata` seed): no waiting on EC2 or other metadata
# services at boot. None keeps cloud-init running (SSH host keys, the default
# user) when a VM has no seed. SSH host keys: Ed25519 and ECDSA only; a
# 3072-bit RSA key takes ~9 s of a first boot under TCG, and sshd does not use
# DSA any more.
cat >"$mnt/etc/cloud/cloud.cfg.d/90_stackyard.cfg" <<'EOF'
datasource_list: [ NoCloud, None ]
ssh_genkeytypes: [ ed25519, ecdsa ]
EOF

# Without a system locale cloud-init's locale module generates en_US.UTF-8
# with locale-gen at first boot (seconds under TCG); C.UTF-8 is built in.
echo 'LANG=C.UTF-8' >"$mnt/etc/default/locale"
echo localhost >"$mnt/etc/hostname"
cat >"$mnt/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF

# GRUB on the loop device's MBR and its menu, from inside the image (its own
# GRUB, the same one its upgrades will run). The image gets a /dev of its own
# with the disk, its partition and the /dev/disk/by-uuid link udev would make:
# without that link update-grub writes root=/dev/loop0p1 instead of the UUID.
mount -t proc proc "$mnt/proc"
mounts+=("$mnt/proc")
mount -t sysfs sysfs "$mnt/sys"
mounts+=("$mnt/sys")
mount -t tmpfs -o mode=0755 dev "$mnt/dev"
mounts+=("$mnt/dev")
for dev in null zero random urandom "$loop" "$part"; do
  dev=/dev/${dev#/dev/}
  cp -a "$dev" "$mnt$dev"   # cp -a copies a device node, not its content
done
mkdir -p "$mnt/dev/disk/by-uuid"
ln -s "../../${part#/dev/}" "$mnt/dev/disk/by-uuid/$uuid"
in_image() { step chroot "$mnt" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }
in_image grub-install --target=i386-pc "$loop"
in_image update-grub
# The menu must boot the root by UUID (the VM sees /dev/vda, not the loop
# device) with the serial console.
if ! grep -E "^\s*linux\s.* root=UUID=$uuid .*console=ttyS0" "$mnt/boot/grub/grub.cfg" >/dev/null; then
  { echo "grub.cfg boots neither root=UUID=$uuid nor console=ttyS0:"; grep -E '^\s*linux\s' "$mnt/boot/grub/grub.cfg"; } >>"$log"
  exit 1
fi
# e2scrub only checks LVM snapshots (no LVM here); its reaper holds up
# multi-user.target, which cloud-init's final stage (runcmd) waits for.
in_image systemctl disable e2scrub_reap.service e2scrub_all.timer
in_image apt-get clean
for fs in dev sys proc; do umount "$mnt/$fs"; unset 'mounts[-1]'; done

# What must differ per VM: the machine id (empty: systemd makes one at first
# boot), the SSH host keys (cloud-init makes them), the random seed. And
# resolvconf's copy of the build host's resolv.conf, which nothing reads.
: >"$mnt/etc/machine-id"
rm -f "$mnt/var/lib/dbus/machine-id" "$mnt"/etc/ssh/ssh_host_*_key* "$mnt/var/lib/systemd/random-seed" \
  "$mnt/etc/resolvconf/resolv.conf.d/original"
rm -rf "$mnt"/var/lib/cloud/* "$mnt"/tmp/* "$mnt"/var/tmp/*
find "$mnt/var/log" -type f -exec truncate -s 0 {} +

# Freed blocks become holes in the raw file, so qcow2 does not store them.
step fstrim "$mnt"
umount "$mnt"
unset 'mounts[-1]'
partx -d "$loop" 2>/dev/null || true
losetup -d "$loop"
loop=

step nice -n 10 qemu-img convert -f raw -O qcow2 -c "$raw" "$image.part"
mv "$image.part" "$image"
say "built in $((SECONDS - start)) s, $(sizes "$image")"
echo "$image"
