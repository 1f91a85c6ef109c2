#!/usr/bin/env bash
# Times `stackyard zone check` against `nsd-checkzone` on the same generated
# 100,000-record zone (the mix of app/benches/zone_check.rs) and prints the
# median of RUNS runs of each and their ratio. Needs a release build:
#   cargo build --release -p stackyard && scripts/zone-check-bench.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/release/stackyard"
runs=${RUNS:-7}
file=$(mktemp --suffix=.zone)
trap 'rm -f "$file"' EXIT

python3 - "$file" <<'PY'
import sys
records, out = 100_000, []
out.append("$ORIGIN bench.example.\n$TTL 3600\n@ IN SOA ns1 hostmaster ( 2024051501 7200 3600 1209600 300 )")
out.append("  IN NS ns1\n  IN NS ns2\nns1 IN A 192.0.2.1\nns2 IN A 192.0.2.2")
n, i = 5, 0
while n < records:
    a, b = i // 250 % 250, i % 250
    k = i % 8
    if k in (0, 1): out.append(f"host{i} IN A 10.{i // 62_500 % 250}.{a}.{b}")
    elif k == 2: out.append(f"host{i} 300 IN AAAA 2001:db8::{i >> 16:x}:{i & 0xffff:x}")
    elif k == 3: out.append(f"alias{i} IN CNAME host{i - 3}")
    elif k == 4: out.append(f"host{i - 4} IN MX 10 mx{i % 7}.mail.example.")
    elif k == 5: out.append(f'host{i - 5} IN TXT "v=spf1 +a +mx ip4:10.0.{a}.{b} ~all" "id={i}"')
    elif k == 6: out.append(f"_sip._tcp.host{i - 6} IN SRV 10 60 5060 host{i - 6}")
    else: out.append(f'host{i - 7} IN CAA 0 issue "letsencrypt.org"')
    n += 1; i += 1
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY

median() {
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; "$@" | tail -3 >&2; exit 1; }
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

echo "zone: $(grep -cv '^\$' "$file") lines, $(du -h "$file" | cut -f1), 100000 records"
ours=$(median "$bin" zone check bench.example. "$file")
nsd=$(median nsd-checkzone bench.example. "$file")
echo "stackyard zone check bench.example. FILE: ${ours} ms (median of $runs)"
echo "nsd-checkzone bench.example. FILE:        ${nsd} ms (median of $runs)"
awk -v a="$ours" -v b="$nsd" 'BEGIN { printf "ratio stackyard / nsd-checkzone = %.2f\n", a / b }'
