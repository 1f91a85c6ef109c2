# Sourced by scripts/test.sh: starts libvirtd (and virtlogd) for the
# hypervisor integration tests when none is running, and stops them again.

_libvirtd_started_here=""
_virtlogd_started_here=""

virtlogd_running() {
  [ -s /var/run/virtlogd.pid ] && kill -0 "$(cat /var/run/virtlogd.pid)" 2>/dev/null
}

# QEMU runs as libvirt-qemu (group kvm). Where no udev rule has given
# /dev/kvm to that group (a fresh container or VM: root:root 0600), QEMU
# fails with "Could not access KVM kernel module: Permission denied"; do
# what udev's rule does on an ordinary Debian install. Without /dev/kvm at
# all, libvirt offers only TCG and the tests use that.
kvm_device_for_qemu() {
  [ -c /dev/kvm ] || return 0
  getent group kvm >/dev/null || return 0
  if [ "$(stat -c %G /dev/kvm)" != kvm ] || [ $((0$(stat -c %a /dev/kvm) & 060)) -ne 060 ]; then
    echo "giving /dev/kvm to group kvm (mode 0660), as udev would"
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
  fi
}

libvirtd_start() {
  kvm_device_for_qemu
  if virsh -c qemu:///system version >/dev/null 2>&1; then
    echo "libvirtd already running"
    return 0
  fi
  mkdir -p /var/log/libvirt /var/run/libvirt
  if ! virtlogd_running; then
    virtlogd -d
    _virtlogd_started_here=1
  fi
  libvirtd -d
  _libvirtd_started_here=1
  for _ in $(seq 1 50); do
    virsh -c qemu:///system version >/dev/null 2>&1 && { echo "libvirtd started"; return 0; }
    sleep 0.2
  done
  echo "libvirtd did not answer on qemu:///system" >&2
  return 1
}

libvirtd_stop() {
  if [ -n "$_libvirtd_started_here" ]; then
    # By pid (the daemons' own pidfiles; the restart test rewrites
    # libvirtd's), never by name: another libvirtd may be someone else's.
    [ -s /var/run/libvirtd.pid ] && kill "$(cat /var/run/libvirtd.pid)" 2>/dev/null || true
  fi
  if [ -n "$_virtlogd_started_here" ]; then
    [ -s /var/run/virtlogd.pid ] && kill "$(cat /var/run/virtlogd.pid)" 2>/dev/null || true
  fi
}
