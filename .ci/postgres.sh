#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL server on 127.0.0.1 for the shared-storage tests.
#   eval "$(bash .ci/postgres.sh start)"   → exports SCALING_SEARCH_TEST_POSTGRES and PG_THROWAWAY_DIR
#   bash .ci/postgres.sh stop "$PG_THROWAWAY_DIR"
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/ss-pg.XXXXXX)
    chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U search --no-sync >"$dir/initdb.log" 2>&1
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null
    runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U search search
    echo "export SCALING_SEARCH_TEST_POSTGRES=postgresql://search@127.0.0.1:$port/search PG_THROWAWAY_DIR=$dir"
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
