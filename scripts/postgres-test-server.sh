#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from Debian's `postgresql` binaries: initdb into a
# temporary directory as an unprivileged user (the server refuses to run as root), listening on
# loopback only, on a free port, trust authentication (nothing else can reach it).
#
#   scripts/postgres-test-server.sh run COMMAND...   start, export ZUORA_SYNC_TEST_POSTGRES, run
#                                                    COMMAND, stop the server even when it fails;
#                                                    exits with COMMAND's status
#   scripts/postgres-test-server.sh start [FILE]     start; print "URL DIRECTORY" (to FILE if given)
#   scripts/postgres-test-server.sh stop DIRECTORY   stop and remove a server started by `start`
#   scripts/postgres-test-server.sh restart DIRECTORY  stop and start it again on the same port
set -euo pipefail

bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$found" ] && [ -x "$found/initdb" ] && { echo "$found"; return; }
  return 1
}

# Runs a command as the unprivileged owner of the server when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

start() {
  local bin dir port user
  bin=$(bindir) || { echo "no PostgreSQL server binaries (apt-get install -y postgresql)" >&2; return 3; }
  dir=$(mktemp -d /tmp/zuora-sync-pg.XXXXXX)
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    user=postgres; id "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$dir"
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  as_owner "$bin/initdb" -D "$dir/data" -U zuora --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  echo "$port" > "$dir/port"
  echo "$bin" > "$dir/bin"
  launch "$dir"
  echo "postgresql://zuora@127.0.0.1:$port/postgres $dir"
}

launch() {
  local dir=$1 bin port
  bin=$(cat "$dir/bin"); port=$(cat "$dir/port")
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
}

halt() {
  local dir=$1
  [ -f "$dir/bin" ] || return 0
  as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) if [ -n "${2:-}" ]; then start > "$2"; else start; fi ;;
  stop) halt "$2"; rm -rf "$2" ;;
  restart) halt "$2"; launch "$2" ;;
  run)
    shift
    if out=$(start); then
      url=${out% *}; dir=${out#* }
      trap 'halt "$dir"; rm -rf "$dir"' EXIT
      echo "PostgreSQL test server: $url" >&2
      export ZUORA_SYNC_TEST_POSTGRES=$url ZUORA_SYNC_TEST_POSTGRES_DIR=$dir
      set +e; "$@"; status=$?; set -e
      exit $status
    else
      echo "warning: no PostgreSQL test server; the PostgreSQL tests will be skipped" >&2
      exec "$@"
    fi
    ;;
  *) echo "usage: $0 run COMMAND... | start | stop DIR | restart DIR" >&2; exit 64 ;;
esac
