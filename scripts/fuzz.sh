#!/usr/bin/env bash
# Fuzzes the readers of untrusted text with cargo-afl (stable Rust):
#   scripts/fuzz.sh [TARGET|all] [SECONDS] [EXECUTIONS]
# Targets (fuzz/src/bin, each feeding app::fuzz::TARGET): zone, layout_files,
# mail_records, libvirt_xml. Each runs alone, from its corpus in
# fuzz/corpus/TARGET, until SECONDS (default 1800) or EXECUTIONS (default
# 10 million) have passed, whichever comes first; then its executions,
# crashes and hangs are printed. Findings stay in $FUZZ_OUT/TARGET
# (default target/fuzz). With FUZZ_CMIN=1 the corpus is replaced by the
# minimised union of itself and what the run found.
# The unit tests replay the committed corpora (app/src/fuzz.rs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

all=(zone layout_files mail_records libvirt_xml)
which=${1:-all}
seconds=${2:-1800}
execs=${3:-10000000}
case "$which" in
  all) targets=("${all[@]}") ;;
  zone | layout_files | mail_records | libvirt_xml) targets=("$which") ;;
  *)
    echo "usage: $0 [all|${all[*]// /|}] [SECONDS] [EXECUTIONS]" >&2
    exit 2
    ;;
esac

if ! cargo afl --version >/dev/null 2>&1; then
  cargo install --locked cargo-afl
fi
# AFL++ itself, built once per Rust toolchain (an error when already built).
cargo afl config --build >/dev/null 2>&1 || true

target_dir=${CARGO_TARGET_DIR:-$root/target}
out=${FUZZ_OUT:-$root/target/fuzz}
(cd "$root/fuzz" && CARGO_TARGET_DIR=$target_dir cargo afl build --release --bins)

# No UI on a pipe, no CPU pinning on a shared machine, and no demands on
# the kernel's core-dump and frequency settings.
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

field() { sed -n "s/^$2 *: //p" "$1/default/fuzzer_stats"; }

for t in "${targets[@]}"; do
  rm -rf "${out:?}/$t"
  mkdir -p "$out"
  cargo afl fuzz -i "$root/fuzz/corpus/$t" -o "$out/$t" -V "$seconds" -E "$execs" \
    -- "$target_dir/release/$t" >"$out/$t.log" 2>&1 || {
    tail -n 30 "$out/$t.log" >&2
    exit 1
  }
  printf '%-13s %12s executions in %6ss (%s/s), %s crashes, %s hangs, corpus %s\n' "$t" \
    "$(field "$out/$t" execs_done)" "$(field "$out/$t" run_time)" \
    "$(field "$out/$t" execs_per_sec)" "$(field "$out/$t" saved_crashes)" \
    "$(field "$out/$t" saved_hangs)" "$(field "$out/$t" corpus_count)"
  if [ "${FUZZ_CMIN:-}" = 1 ]; then
    rm -rf "$out/$t.union" "$out/$t.min"
    mkdir -p "$out/$t.union"
    cp "$root/fuzz/corpus/$t"/* "$out/$t/default/queue"/id:* "$out/$t.union/"
    # Edges only (not their hit counts): a few hundred files, not thousands.
    cargo afl cmin -e -i "$out/$t.union" -o "$out/$t.min" -- "$target_dir/release/$t" >/dev/null 2>&1
    # Named by content: no colons (AFL's names) in the repository.
    rm -f "$root/fuzz/corpus/$t"/seed-*
    for f in "$out/$t.min"/*; do
      cp "$f" "$root/fuzz/corpus/$t/seed-$(sha1sum <"$f" | cut -c1-16)"
    done
    echo "$t: corpus minimised to $(find "$root/fuzz/corpus/$t" -type f | wc -l) files"
  fi
done
