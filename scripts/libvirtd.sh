# Sourced by scripts/test.sh: starts libvirtd (and virtlogd) for the
# hypervisor integration tests when none is running, and stops them again.

_libvirtd_started_here=""

libvirtd_start() {
  if virsh -c qemu:///system version >/dev/null 2>&1; then
    echo "libvirtd already running"
    return 0
  fi
  mkdir -p /var/log/libvirt /var/run/libvirt
  pgrep -x virtlogd >/dev/null || virtlogd -d
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
    pkill -x libvirtd || true
    pkill -x virtlogd || true
  fi
}
