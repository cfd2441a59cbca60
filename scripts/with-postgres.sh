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
"${run_as[@]}" "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w \
  -o "-p $port -k $base -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres siteinspect_test

export SITEINSPECT_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/siteinspect_test"
export SITEINSPECT_TEST_PG_ADMIN_URL="postgresql://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
