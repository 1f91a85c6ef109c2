#!/usr/bin/env bash
# Load on a real server (release build), on loopback only, bounded in time:
# SESSIONS signed-in operators (default 100) for DURATION seconds (default
# 60), each looping over a page load (the dashboard, DNS, hosts or the
# zone's page), a list read (the zones) or a record edit (a new A record of
# its own in one zone), chosen at random 4:4:2.
#   BACKEND=sqlite    one server on a fresh SQLite database (the default)
#   BACKEND=postgres  two servers sharing a fresh PostgreSQL database (the
#                     sessions alternate between them); needs Debian's
#                     PostgreSQL (scripts/postgres.sh starts it)
# Prints requests per second, p50/p95/p99 latency, errors (must be 0), lost
# writes (must be 0: every acknowledged edit is in the zone afterwards) and
# each server's peak memory (VmHWM). Exit status 1 on any error or lost write.
#   cargo build --release -p stackyard && scripts/load.sh
#   BACKEND=postgres scripts/load.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${STACKYARD:-"$root/target/release/stackyard"}
backend=${BACKEND:-sqlite}
sessions=${SESSIONS:-100}
duration=${DURATION:-60}
port=${PORT:-3981}
dir=$(mktemp -d)
pids=()
pgdb=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ -n "$pgdb" ]; then
    psql "$STACKYARD_TEST_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS $pgdb" >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

password='correct horse battery staple'
db_args=(--data-dir "$dir/data")
ports=("$port")
if [ "$backend" = postgres ]; then
  # shellcheck source=scripts/postgres.sh
  source "$root/scripts/postgres.sh"
  postgres_start >/dev/null
  pgdb="stackyard_load_$$"
  psql "$STACKYARD_TEST_POSTGRES_URL" -q -c "CREATE DATABASE $pgdb" >/dev/null
  db_args+=(--database-url "${STACKYARD_TEST_POSTGRES_URL%/*}/$pgdb")
  ports=("$port" "$((port + 1))")
fi
for i in $(seq 0 9); do
  printf '%s\n' "$password" | "$bin" user add "load$i" --role operator "${db_args[@]}" >/dev/null
done

# Starts a server on port $1 with the rest as its options; waits until it answers.
start() {
  local p=$1
  shift
  "$bin" serve --listen "127.0.0.1:$p" --log error "$@" >"$dir/serve-$p.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server on :$p did not start:" >&2
  cat "$dir/serve-$p.log" >&2
  exit 1
}
if [ "$backend" = postgres ]; then
  # Each instance its own data directory, one key file: the first makes it.
  for p in "${ports[@]}"; do
    start "$p" --data-dir "$dir/data-$p" "${db_args[@]:2}" --secret-key-file "$dir/secret.key"
  done
else
  start "$port" "${db_args[@]}"
fi

python3 - "$sessions" "$duration" "$password" "${pids[*]}" "${ports[@]}" <<'PY'
import http.client, json, random, statistics, sys, threading, time, urllib.parse

sessions, duration, password = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
pids = [int(p) for p in sys.argv[4].split()]
ports = [int(p) for p in sys.argv[5:]]

def peak_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

class Client:
    """One browser: a keep-alive connection to one instance, and its cookie."""
    def __init__(self, port):
        self.port, self.cookie = port, None
        self.base = f"http://127.0.0.1:{port}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, fields=None):
        headers = {"Host": f"127.0.0.1:{self.port}"}
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.base
        if self.cookie:
            headers["Cookie"] = self.cookie
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed an idle keep-alive connection: reopen once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and "session" in v:
                self.cookie = v.split(";")[0]
        return r.status, data

# Sign in: one account's sign-ins one after another (the login gate lets one
# check per name and address run at a time).
clients = [Client(ports[i % len(ports)]) for i in range(sessions)]
def sign_in(user):
    for i in range(user, sessions, 10):
        for _ in range(200):
            status, body = clients[i].request("POST", "/api/auth/login",
                                              {"username": f"load{user}", "password": password})
            # Every password check busy (they are bounded by the cores): again.
            if status != 429:
                break
            time.sleep(0.05)
        assert status == 200, (status, body)
threads = [threading.Thread(target=sign_in, args=(u,)) for u in range(min(10, sessions))]
for t in threads: t.start()
for t in threads: t.join()

status, body = clients[0].request("POST", "/api/dns/create_zone", {"kind": "forward", "origin": "load.test"})
assert status == 200, (status, body)
zone = json.loads(body)["id"]

pages = ["/", "/dns", "/hosts", f"/dns/zone/{zone}"]
lock = threading.Lock()
latencies, errors, acknowledged = [], {}, []
deadline = time.monotonic() + duration

def run(n):
    c, rng, edits = clients[n], random.Random(n), 0
    mine, errs, acked = [], {}, []
    while time.monotonic() < deadline:
        pick = rng.random()
        start = time.monotonic()
        try:
            if pick < 0.4:
                status, _ = c.request("GET", rng.choice(pages))
            elif pick < 0.8:
                status, _ = c.request("POST", "/api/dns/zones", {})
            else:
                edits += 1
                owner = f"s{n}-{edits}"
                status, _ = c.request("POST", "/api/dns/save_record", {
                    "zone_id": zone, "original": "", "owner": owner, "rtype": "A", "ttl": "300",
                    "address": f"192.0.2.{edits % 250 + 1}"})
                if status == 200:
                    acked.append(owner)
        except Exception as e:
            status = type(e).__name__
        mine.append(time.monotonic() - start)
        if status != 200:
            errs[status] = errs.get(status, 0) + 1
    with lock:
        latencies.extend(mine)
        acknowledged.extend(acked)
        for k, v in errs.items():
            errors[k] = errors.get(k, 0) + v

began = time.monotonic()
threads = [threading.Thread(target=run, args=(n,)) for n in range(sessions)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - began

status, body = clients[0].request("POST", "/api/dns/zone", {"id": zone})
assert status == 200, (status, body)
present = {r["name"] for r in json.loads(body)["records"]}
lost = [o for o in acknowledged if o not in present]

q = statistics.quantiles(latencies, n=100)
print(f"backend {'postgres, %d instances' % len(ports) if len(ports) > 1 else 'sqlite'}: "
      f"{sessions} sessions, {elapsed:.0f} s")
print(f"requests {len(latencies)}  ({len(latencies) / elapsed:.0f}/s)  edits acknowledged {len(acknowledged)}")
print(f"latency ms  p50 {q[49] * 1000:.1f}  p95 {q[94] * 1000:.1f}  p99 {q[98] * 1000:.1f}  max {max(latencies) * 1000:.1f}")
print(f"errors {sum(errors.values())} {errors if errors else ''}")
print(f"lost writes {len(lost)} {lost[:5] if lost else ''}")
for pid, port in zip(pids, ports):
    print(f"peak memory (VmHWM) of the server on :{port}: {peak_mib(pid):.1f} MiB")
sys.exit(1 if errors or lost else 0)
PY
