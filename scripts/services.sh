#!/usr/bin/env bash
# Starts throw-away PostgreSQL and Redis servers on loopback for the production-path
# tests (installing the Debian packages when missing), or stops them.
#   scripts/services.sh start DIR   → prints the DATABASE_URL and REDIS_URL to export
#   scripts/services.sh stop DIR      (keeps the data, for a restart)
#   scripts/services.sh destroy DIR   (stops and deletes the data)
set -euo pipefail

cmd=${1:?start|stop}
dir=$(realpath -m "${2:?data folder}")
pg_port=${ISOMIX_TEST_PG_PORT:-55432}
redis_port=${ISOMIX_TEST_REDIS_PORT:-56379}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
# PostgreSQL runs as its own user, who may not reach $dir (a test's private tmp folder):
# its data lives in a folder of its own, named after $dir.
pg_dir=/tmp/isomix-pg-$(printf '%s' "$dir" | md5sum | cut -c1-12)

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ -z "$pg_bin" ] || ! command -v redis-server >/dev/null 2>&1; then
    bash "$(dirname "$0")/system-deps.sh" "" postgresql redis-server >&2
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  mkdir -p "$dir" "$pg_dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$pg_dir"
  if [ ! -f "$pg_dir/data/PG_VERSION" ]; then
    as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1 \
    || as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/pg.log" -w \
      -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
    "SELECT 1 FROM pg_roles WHERE rolname='isomix'" | grep -q 1 \
    || { as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc \
           "CREATE ROLE isomix LOGIN CREATEDB PASSWORD 'isomix'" \
         && as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc \
           "CREATE DATABASE isomix OWNER isomix"; }
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 \
    || redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "export DATABASE_URL=postgres://isomix:isomix@127.0.0.1:$pg_port/isomix"
  echo "export REDIS_URL=redis://127.0.0.1:$redis_port/0"
  ;;
stop)
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  [ -n "$pg_bin" ] && [ -d "$pg_dir/data" ] && as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
  ;;
destroy)
  bash "$0" stop "$dir"
  rm -rf "$pg_dir"
  ;;
esac
