#!/usr/bin/env bash
# Boots the cloud image of scripts/cloud-image.sh once under QEMU TCG (not
# KVM: nested KVM stalls booting kernels on the test machines) and proves
# cloud-init works: a NoCloud seed (an ISO labelled `cidata`) names the VM
# web1 and gives its NIC, matched by MAC, a static address; its runcmd writes
# a STACKYARD line with what the guest sees to the serial port and the VM
# powers off. The cached image is never written (a qcow2 overlay takes the
# writes) and the NIC has no backend: nothing leaves the machine.
# Prints the STACKYARD line and the boot time; fails if the line does not come
# within $STACKYARD_SMOKE_TIMEOUT seconds (300) or says something else.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
timeout=${STACKYARD_SMOKE_TIMEOUT:-300}
mac=52:54:00:5a:00:0a

missing=()
for pkg in qemu-system-x86 qemu-utils genisoimage; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "smoke: apt: installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

image=$("$here/cloud-image.sh" | tail -n1)

work=$(mktemp -d)
serial=$work/serial.log
qemu_pid=
cleanup() {
  local rc=$?
  set +e
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid"
    wait "$qemu_pid" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ] && [ -s "$serial" ]; then
    echo "smoke: the guest's serial line ended with:" >&2
    tail -n 40 "$serial" | tr -d '\r' >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

qemu-img create -q -f qcow2 -b "$image" -F qcow2 "$work/overlay.qcow2" 4G

mkdir "$work/seed"
cat >"$work/seed/meta-data" <<'EOF'
instance-id: smoke-1
local-hostname: web1
EOF
# The line goes straight to the serial port, so it does not depend on where
# cloud-init's own output ends up.
cat >"$work/seed/user-data" <<'EOF'
#cloud-config
runcmd:
  - |
    echo "STACKYARD hostname=$(hostname) addr=$(ip -4 -o addr show scope global | awk '{print $4}') gw=$(ip -4 route show default | awk '{print $3}') dns=$(awk '/^nameserver/ {print $2}' /etc/resolv.conf | paste -sd, -)" >/dev/ttyS0
power_state:
  mode: poweroff
EOF
cat >"$work/seed/network-config" <<EOF
version: 2
ethernets:
  lan:
    match:
      macaddress: "$mac"
    addresses: [192.0.2.10/24]
    gateway4: 192.0.2.1
    nameservers:
      addresses: [192.0.2.53]
EOF
genisoimage -quiet -V cidata -J -r -o "$work/seed.iso" "$work/seed"

# The machine libvirt gives a domain without a machine type (pc): the disk on
# virtio, the seed on an IDE CD-ROM as app::testing::libvirt attaches ISOs
# (Debian's cloud kernel has no AHCI driver, so not a SATA one). -nic none
# drops QEMU's default user-mode NIC; the virtio NIC has no backend at all.
start=$(date +%s.%N)
nice -n 10 qemu-system-x86_64 -accel tcg -machine pc -m 1024 -smp 1 \
  -display none -monitor none -serial "file:$serial" -no-reboot \
  -drive "file=$work/overlay.qcow2,format=qcow2,if=virtio" \
  -drive "file=$work/seed.iso,format=raw,if=ide,media=cdrom,readonly=on" \
  -nic none -device "virtio-net-pci,mac=$mac" \
  >"$work/qemu.log" 2>&1 &
qemu_pid=$!

elapsed() { awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.0f", n - s }'; }

line=
while :; do
  # Other console output may share the line; take what follows the marker.
  if line=$(grep -a -o -m1 'STACKYARD hostname=.*' "$serial" 2>/dev/null); then
    line=$(printf '%s' "$line" | tr -d '\r')
    break
  fi
  if ! kill -0 "$qemu_pid" 2>/dev/null; then
    echo "smoke: QEMU exited after $(elapsed) s without the STACKYARD line" >&2
    cat "$work/qemu.log" >&2
    exit 1
  fi
  if [ "$(elapsed)" -ge "$timeout" ]; then
    echo "smoke: no STACKYARD line on the serial port within $timeout s" >&2
    exit 1
  fi
  sleep 0.5
done
boot=$(elapsed)
# QEMU's own CPU time tells a slow guest from a busy machine (QEMU runs
# niced: the wall time grows with whatever else the machine does).
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) / hz }' "/proc/$qemu_pid/stat")
echo "$line"
echo "smoke: STACKYARD line after $boot s under TCG (QEMU used $cpu s of CPU)"

# power_state poweroff: QEMU exits by itself; the trap kills it otherwise.
for _ in $(seq 120); do
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$qemu_pid" 2>/dev/null; then
  echo "smoke: the guest did not power off within 60 s; killing QEMU" >&2
else
  wait "$qemu_pid" || true
  qemu_pid=
  echo "smoke: the guest powered off $(elapsed) s after QEMU started"
fi

case $line in
  *"hostname=web1 addr=192.0.2.10/24 gw=192.0.2.1 dns=192.0.2.53") ;;
  *) echo "smoke: expected hostname=web1 addr=192.0.2.10/24 gw=192.0.2.1 dns=192.0.2.53" >&2; exit 1 ;;
esac
