#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1, run the given command with
# SITEINSPECT_DATABASE_URL pointing at a fresh database in it, then stop the server.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found; run 'make deps' (installs Debian's postgresql)" >&2
  exit 1
fi

base=$(mktemp -d /tmp/siteinspect-pg.XXXXXX)
port=${SITEINSPECT_TEST_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
run_as=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: use the postgres account Debian's package creates.
  chown postgres:postgres "$base"
  run_as=(runuser -u postgres --)
fi

cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$base/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$base"
}
trap cleanup EXIT

"${run_as[@]}" "$bindir/initdb" -D "$base/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# The server's settings live in its own configuration file, so a test that stops and starts it
# again (tests/reliability/test_database_restart.py) brings it back exactly as it was.
cat >>"$base/data/postgresql.conf" <<EOF
port = $port
unix_socket_directories = '$base'
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
"${run_as[@]}" "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w start >/dev/null
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres siteinspect_test

export SITEINSPECT_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/siteinspect_test"
export SITEINSPECT_TEST_PG_ADMIN_URL="postgresql://postgres@127.0.0.1:$port/postgres"
# For tests that restart the server: where it lives, its tools, and the account that runs it.
export SITEINSPECT_TEST_PG_DATA="$base/data"
export SITEINSPECT_TEST_PG_BINDIR="$bindir"
export SITEINSPECT_TEST_PG_RUN_AS="${run_as[*]:+postgres}"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
