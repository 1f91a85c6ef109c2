#!/usr/bin/env bash
# Every test Stackyard has, or one group of them:
#   scripts/test.sh lint         formatting, stylelint, clippy (server, wasm, pure core), doc links
#   scripts/test.sh unit         unit tests: the pure core without the ssr stack, then every crate's
#   scripts/test.sh integration  unit and integration tests (SQLite, a real PostgreSQL, libvirtd,
#                                NSD, Postfix, Dovecot), ignored ones included
#   scripts/test.sh e2e          Playwright in Debian's Chromium against the release server
#   scripts/test.sh [all]        all of the above in that order (`make test`, after the release build)
# `make lint`, `make unit` and `make e2e` call the groups of the same name.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# A one-off run (CI) gains nothing from incremental builds but their disk use.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

lint() {
  step "rustfmt"
  cargo fmt --all -- --check

  step "stylelint"
  ./scripts/style.sh --check

  step "clippy (server build, with every test and its fixtures)"
  cargo clippy -p app -p stackyard -p migrations --all-targets -- -D warnings
  step "clippy (the pure core without the ssr stack)"
  cargo clippy -p app --all-targets -- -D warnings
  step "clippy (wasm frontend build)"
  cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

  step "rustdoc (no broken intra-doc links)"
  RUSTDOCFLAGS="-D warnings -D rustdoc::broken_intra_doc_links" \
    cargo doc -p app --features ssr --no-deps
}

unit() {
  step "unit tests of the pure core (no ssr stack)"
  cargo test -p app --lib
  step "unit tests of every crate (server build)"
  cargo test -p app -p stackyard -p migrations --lib --bins
}

# PostgreSQL and libvirtd, started once and stopped when the script exits.
daemons_up=""
daemons() {
  [ -z "$daemons_up" ] || return 0
  daemons_up=1
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
}

integration() {
  daemons
  step "unit and integration tests"
  # One integration-test binary per crate (tests/it); the app crate's needs
  # its `testing` feature, which the server's tests turn on for both.
  # The daemon-restart test may kill and restart the libvirtd started above.
  STACKYARD_RESTART_LIBVIRTD=1 cargo test -p app -p stackyard -p migrations -- --include-ignored
}

e2e() {
  # With the same daemons as always: the hosts page offers a local libvirtd.
  daemons
  step "browser tests (Playwright, Chromium, release server)"
  rm -rf end2end/.data
  (cd end2end && npx playwright test)
}

case "${1:-all}" in
  lint) lint ;;
  unit) unit ;;
  integration) integration ;;
  e2e) e2e ;;
  all)
    lint
    integration
    e2e
    ;;
  *)
    echo "usage: $0 [lint|unit|integration|e2e|all]" >&2
    exit 2
    ;;
esac
