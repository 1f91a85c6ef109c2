#!/usr/bin/env bash
# A burst of wrong-password logins against a real server (release build,
# production Argon2 cost), on loopback only: BURST concurrent attempts for
# one account from one address (default 500). Prints how many password
# verifications ran (each is a "wrong name or password" answer; the rest are
# refused at once with 429, or 503 beyond the server's requests in flight),
# the answers by status, the server's peak memory
# (VmHWM), and whether the right password works once the throttle's delay
# has passed (about 30 s). Exit status 1 when more than 5 verifications ran,
# the peak memory reaches 300 MB, any answer is an error, or the right
# password is refused after the delay.
#   cargo build --release -p stackyard && scripts/login-burst.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${STACKYARD:-"$root/target/release/stackyard"}
burst=${BURST:-500}
port=${PORT:-3977}
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

password='correct horse battery staple'
printf '%s\n' "$password" | "$bin" user add burst --role viewer --data-dir "$dir" > /dev/null
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir" --log error > "$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  sleep 0.1
done

python3 - "$port" "$pid" "$burst" "$password" <<'PY'
import collections, concurrent.futures, sys, time, urllib.error, urllib.parse, urllib.request

port, pid, burst, password = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
base = f"http://127.0.0.1:{port}"

def login(pw):
    body = urllib.parse.urlencode({"username": "burst", "password": pw}).encode()
    request = urllib.request.Request(f"{base}/api/auth/login", data=body, headers={
        "Origin": base, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

def peak_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

before = peak_kib()
start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(max_workers=burst) as pool:
    answers = list(pool.map(lambda _: login("wrong wrong wrong"), range(burst)))
took = time.monotonic() - start
by_status = collections.Counter(s for s, _ in answers)
verified = sum(1 for s, b in answers if s == 409 and "Wrong name or password" in b)
# 429: refused by the login gate; 503: by the bound on requests in flight.
errors = sum(n for s, n in by_status.items() if s not in (409, 429, 503))
peak = peak_kib()
print(f"burst: {burst} concurrent wrong-password logins for one name from one address in {took:.2f} s")
print("answers by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
print(f"password verifications: {verified} (at most 5 allowed)")
print(f"server peak memory (VmHWM): {peak / 1024:.1f} MiB (before the burst {before / 1024:.1f} MiB; limit 300 MB)")

# The right password, before and after the delay.
status, body = login(password)
print(f"right password at once: {status} {body.strip()[:90]}")
deadline = time.monotonic() + 16 * 60
ok = status == 200
while not ok and time.monotonic() < deadline:
    time.sleep(5)
    status, body = login(password)
    if status == 200:
        ok = True
        break
    if status != 429:
        print(f"unexpected answer {status}: {body[:200]}")
        break
waited = time.monotonic() - start - took
print(f"right password: {'works' if ok else 'REFUSED'} {waited:.0f} s after the burst")
failed = verified > 5 or peak >= 300 * 1000 * 1000 / 1024 or errors or not ok
sys.exit(1 if failed else 0)
PY
