#!/usr/bin/env bash
# Every test Stackyard has: formatting and lints, unit and integration tests
# (SQLite and a real PostgreSQL), then Playwright in Debian's Chromium against
# the release server. Called by `make test` after the release build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# A one-off run (CI) gains nothing from incremental builds but their disk use.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "stylelint"
./scripts/style.sh --check

step "clippy (server build)"
cargo clippy -p app -p stackyard -p migrations --all-targets -- -D warnings
step "clippy (wasm frontend build)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "PostgreSQL for the multi-instance tests"
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
postgres_start
trap postgres_stop EXIT

step "libvirtd for the hypervisor tests"
# shellcheck source=scripts/libvirtd.sh
source scripts/libvirtd.sh
libvirtd_start
trap 'postgres_stop; libvirtd_stop' EXIT

step "unit and integration tests"
# The daemon-restart test may kill and restart the libvirtd started above.
STACKYARD_RESTART_LIBVIRTD=1 cargo test -p app -p stackyard -p migrations -- --include-ignored

step "browser tests (Playwright, Chromium, release server)"
rm -rf end2end/.data
(cd end2end && npx playwright test)
