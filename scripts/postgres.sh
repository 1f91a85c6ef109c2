# Sourced by scripts/test.sh: starts Debian's PostgreSQL cluster when it is
# not running (and stops it again afterwards), and makes sure the test role
# exists. Tests create and drop their own databases through
# STACKYARD_TEST_POSTGRES_URL, so runs never see each other's data.

_pg_started_here=""
_pg_as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
_pg_ctl() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

postgres_start() {
  local line version name port status
  line=$(pg_lsclusters --no-header | head -n 1)
  if [ -z "$line" ]; then
    echo "no PostgreSQL cluster: install the postgresql package (scripts/setup.sh test does)" >&2
    return 1
  fi
  read -r version name port status _ <<<"$line"
  if [ "$status" != online ]; then
    _pg_ctl pg_ctlcluster "$version" "$name" start
    _pg_started_here="$version $name"
  fi
  for _ in $(seq 1 30); do
    _pg_as_postgres psql -p "$port" -tAc 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! _pg_as_postgres psql -p "$port" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'stackyard_test'" | grep -q 1; then
    _pg_as_postgres psql -p "$port" -q -c "CREATE ROLE stackyard_test LOGIN PASSWORD 'stackyard_test' CREATEDB"
  fi
  # The mail tests make the daemons' read-only role (scripts/mail-reader.sql).
  _pg_as_postgres psql -p "$port" -q -c "ALTER ROLE stackyard_test CREATEDB CREATEROLE"
  export STACKYARD_TEST_POSTGRES_URL="postgres://stackyard_test:stackyard_test@127.0.0.1:$port/postgres"
  echo "PostgreSQL $version/$name on 127.0.0.1:$port"
}

postgres_stop() {
  if [ -n "$_pg_started_here" ]; then
    # shellcheck disable=SC2086
    _pg_ctl pg_ctlcluster $_pg_started_here stop || true
  fi
}
