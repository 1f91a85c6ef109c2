#!/usr/bin/env bash
# Times `stackyard zone check` against `nsd-checkzone` on the same generated
# 100,000-record zone (the mix of app/benches/zone_check.rs): RUNS runs of
# each, alternating (stackyard, nsd, stackyard, nsd, …) so that both see the
# same machine load, then prints both medians and their ratio, and the peak
# memory (maximum resident set size, from wait4's rusage of each child) of
# both. Needs a release build:
#   cargo build --release -p stackyard && scripts/zone-check-bench.sh
# Exit status 1 when stackyard is slower (median ratio > 1.0) or uses more
# peak memory than nsd-checkzone; CHECK=0 only prints.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${STACKYARD:-"$root/target/release/stackyard"}
nsd=${NSD_CHECKZONE:-$(command -v nsd-checkzone || echo /usr/sbin/nsd-checkzone)}
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

python3 - "$file" "$runs" "$bin" "$nsd" "${CHECK:-1}" <<'PY'
import os, statistics, subprocess, sys, time

file, runs, ours_bin, nsd_bin, check = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1"
tools = {
    "stackyard zone check": [ours_bin, "zone", "check", "bench.example.", file],
    "nsd-checkzone": [nsd_bin, "bench.example.", file],
}

def run(argv):
    """Wall time (ms) and peak RSS (KiB) of one run of argv."""
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    t1 = time.perf_counter_ns()
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"FAILED ({p.returncode}): {' '.join(argv)}\n{err[-2000:]}")
    return (t1 - t0) / 1e6, usage.ru_maxrss  # ru_maxrss is in KiB on Linux

lines = sum(1 for l in open(file) if not l.startswith("$"))
print(f"zone: {lines} lines, {os.path.getsize(file) / 2**20:.1f} MiB, 100000 records; "
      f"{runs} runs of each, alternating")
times = {k: [] for k in tools}
peaks = {k: [] for k in tools}
for k in tools:  # one warm-up run each (page cache, binary loaded), not counted
    run(tools[k])
for _ in range(runs):
    for k, argv in tools.items():
        ms, kib = run(argv)
        times[k].append(ms)
        peaks[k].append(kib)

med = {k: statistics.median(v) for k, v in times.items()}
peak = {k: max(v) / 1024 for k, v in peaks.items()}
for k in tools:
    print(f"{k + ':':22} median {med[k]:7.1f} ms (min {min(times[k]):.1f}, max {max(times[k]):.1f}), "
          f"peak memory {peak[k]:6.1f} MiB")
ours, nsd = "stackyard zone check", "nsd-checkzone"
ratio = med[ours] / med[nsd]
mem_ratio = peak[ours] / peak[nsd]
print(f"ratio stackyard / nsd-checkzone: time {ratio:.2f} (median), peak memory {mem_ratio:.2f}")
if check and (ratio > 1.0 or mem_ratio > 1.0):
    print("stackyard is slower or uses more memory than nsd-checkzone", file=sys.stderr)
    sys.exit(1)
PY
