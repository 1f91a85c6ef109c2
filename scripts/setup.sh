#!/usr/bin/env bash
# Installs what building, running or testing Stackyard needs on a Debian 12
# machine that has rustup, Node/npm and apt. Safe to run again: everything
# already present (at the right version) is left alone.
#
#   scripts/setup.sh run    build and serve
#   scripts/setup.sh test   the same plus the test tools (Chromium, PostgreSQL)
set -euo pipefail

mode=${1:-run}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- Debian packages ------------------------------------------------------
# libvirt-dev: the server links libvirt (the `virt` crate) for its hosts.
apt_packages=(pkg-config gcc libc6-dev libvirt-dev)
if [ "$mode" = test ]; then
  # Browser tests, the multi-instance database, and the real services the
  # integration tests drive: libvirtd with QEMU (qemu-utils: qemu-img, which
  # libvirt needs to create the thin qcow2 volumes a layout apply makes), NSD,
  # Dovecot and Postfix; cpio packs the console tests' guest (scripts/guest-images.sh), and
  # an sshd of the tests' own on loopback stands for a qemu+ssh:// host. The cloud-init
  # seed's tests read it with isoinfo (genisoimage) and its YAML with PyYAML, as
  # cloud-init does (python3-yaml); mmdebstrap and fdisk (sfdisk) build the cloud-init
  # guest disk (scripts/cloud-image.sh), genisoimage its smoke test's seeds.
  apt_packages+=(chromium postgresql libvirt-daemon-system dnsmasq-base qemu-system-x86 qemu-utils
                 nsd dnsutils dovecot-core dovecot-sqlite postfix postfix-sqlite postfix-pgsql sqlite3
                 cpio openssh-server genisoimage python3-yaml mmdebstrap fdisk)
fi

missing_packages() {
  local pkg
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}
mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  # Postfix asks how to configure itself; the tests bring their own config.
  echo "postfix postfix/main_mailer_type select No configuration" | "${sudo_cmd[@]}" debconf-set-selections
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Installing one package can remove another that was there: a machine
  # with qemu-utils from bookworm-backports loses it to Debian 12's
  # qemu-system-x86, and libvirt then cannot create qcow2 volumes ("not
  # supported without qemu-img"). Install whatever is gone again, matching
  # what is installed now, and stop if that fails.
  mapfile -t missing < <(missing_packages)
  if [ ${#missing[@]} -gt 0 ]; then
    say "apt: installing again what the first install removed: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
    mapfile -t missing < <(missing_packages)
    if [ ${#missing[@]} -gt 0 ]; then
      echo "apt could not install: ${missing[*]}" >&2
      exit 1
    fi
  fi
fi

# --- Rust toolchain pieces ------------------------------------------------
export PATH="$HOME/.cargo/bin:$PATH"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos 0.3.4 over the fixed wasm splitter (0.2.3), which splits the
# browser bundle into one chunk per page: scripts/cargo-leptos/Cargo.toml
# says why it is built here rather than installed from crates.io.
if ! cargo install --list | grep -q '^stackyard-cargo-leptos v0.3.4-stackyard.4 '; then
  say "cargo: installing cargo-leptos 0.3.4 with wasm_split_cli_support 0.2.3"
  build_dir=$(mktemp -d)
  cargo install --path scripts/cargo-leptos --locked --force --target-dir "$build_dir"
  rm -rf "$build_dir"
fi

# cargo-leptos calls wasm-bindgen from PATH; it must match the library
# version in Cargo.lock exactly, or the generated glue does not load.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg_version\$"; then
  say "cargo: installing wasm-bindgen-cli $wbg_version"
  # Not --locked: its lock file names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$wbg_version"
fi

# --- npm: Playwright, wasm-opt (binaryen 132) and stylelint ---------------
# Debian's binaryen (108) produces wasm that silently fails to hydrate, so
# wasm-opt comes from npm and end2end/node_modules/.bin goes first on PATH.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -x end2end/node_modules/.bin/playwright ] \
   || [ ! -x end2end/node_modules/.bin/stylelint ] \
   || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "npm: installing end2end packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# The browser libraries the consoles serve (scripts/vendor.sh copies them).
if [ ! -f frontend/node_modules/@novnc/novnc/core/rfb.js ] \
   || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  say "npm: installing the consoles' browser libraries"
  (cd frontend && npm ci --no-audit --no-fund)
fi

say "tools ready"
