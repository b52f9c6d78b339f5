#!/usr/bin/env bash
# bench/run.sh — Parley's end-to-end benchmark, on SQLite then PostgreSQL.
#
# Builds parley and parley-bench, and for each database: starts a fresh
# Parley on a free 127.0.0.1 port, measures its idle RSS, seeds N contacts
# (CSV import, recording the server's max RSS), runs the ceiling (a bare
# net/http handler returning the same JSON) and every load scenario, measures
# the idle RSS again, and stops it. Prints a Markdown report for
# docs/benchmarks.md (also saved as $RESULTS/report.md).
#
#   bench/run.sh                       # the full benchmark: 1M contacts, 30–60 minutes
#   N=2000 DURATION=3s WARMUP=1s bench/run.sh   # a quick smoke test
#
# Settings (environment):
#   N                   contacts to seed (default 1000000)
#   COMPANIES, TAGS     companies (default min(N/100, 10000)) and tags (default 50)
#   CONCURRENCY         clients for reads and writes (default 32)
#   SEARCH_CONCURRENCY  clients for searches (default 4)
#   DURATION, WARMUP    measured time and warm-up per scenario (default 20s, 3s)
#   DATABASES           "sqlite postgres" (default), or one of them
#   SCENARIOS           load scenarios to run after the ceiling (default all:
#                       get-contact create-contact update-contact search-email
#                       search-external-id search-compound)
#   PG_ADMIN_URL        PostgreSQL to create the throwaway database on
#                       (default postgres://postgres@127.0.0.1:5432/test; loopback only)
#   SEED_TIMEOUT        seconds allowed for seeding (default 3600)
#   SEED_ARGS           extra flags for parley-bench seed, e.g. "--tag-fraction 0.01 --company-fraction 0.01"
#   RESULTS             directory for results (default a new /tmp/parley-bench.*)
#   KEEP_DATA=1         keep the SQLite data directory and the PostgreSQL database
#   AFTER_SETTLE        idle time before the last RSS reading (default 10s); the
#                       server's own settings pass through, e.g.
#                       PARLEY_SEARCH_INDEX_IDLE=30s AFTER_SETTLE=45s
#
# Every step runs under `timeout`, so the whole run is bounded; everything it
# starts is stopped (by pid) and the throwaway database dropped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."

N=${N:-1000000}
TAGS=${TAGS:-50}
COMPANIES=${COMPANIES:-$(( N / 100 < 10000 ? (N / 100 > 0 ? N / 100 : 1) : 10000 ))}
CONCURRENCY=${CONCURRENCY:-32}
SEARCH_CONCURRENCY=${SEARCH_CONCURRENCY:-4}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
DATABASES=${DATABASES:-sqlite postgres}
SCENARIOS=${SCENARIOS:-get-contact create-contact update-contact search-email search-external-id search-compound}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
SEED_TIMEOUT=${SEED_TIMEOUT:-3600}
RESULTS=${RESULTS:-$(mktemp -d /tmp/parley-bench.XXXXXX)}
KEEP_DATA=${KEEP_DATA:-}
# How long the server sits idle before "idle RSS after the run" is read.
# With PARLEY_SEARCH_INDEX_IDLE below it, the figure is taken after the
# search index let go of its memory (as on a server nobody searches).
AFTER_SETTLE=${AFTER_SETTLE:-10s}

. bench/lib.sh
require_local_pg "$PG_ADMIN_URL"

seconds() { # "20s" / "1m" / "500ms" → whole seconds, rounded up
  local d=$1
  case "$d" in
    *ms) echo $(( (${d%ms} + 999) / 1000 )) ;;
    *s) echo "${d%s}" | awk '{print int($1 + 0.999)}' ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *) echo "$d" ;;
  esac
}
STEP_TIMEOUT=$(( $(seconds "$DURATION") + $(seconds "$WARMUP") + 120 ))

BIN=$RESULTS/bin
build_bins "$BIN"

SERVER_PID= CEILING_PID= PG_DB= DATA_DIR=
drop_pg() {
  [ -n "$PG_DB" ] || return 0
  if [ -z "$KEEP_DATA" ]; then
    psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null || true
  else
    echo "kept PostgreSQL database $PG_DB" >&2
  fi
  PG_DB=
}
remove_data() {
  [ -n "$DATA_DIR" ] || return 0
  if [ -z "$KEEP_DATA" ]; then rm -rf "$DATA_DIR"; else echo "kept data directory $DATA_DIR" >&2; fi
  DATA_DIR=
}
cleanup() {
  stop_pid "$CEILING_PID"; CEILING_PID=
  stop_pid "$SERVER_PID"; SERVER_PID=
  drop_pg
  remove_data
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# scenario NAME CLIENTS OUT [extra load flags…]: one load run, never fatal.
scenario() {
  local name=$1 clients=$2 out=$3; shift 3
  timeout "$STEP_TIMEOUT" "$PB" load --scenario "$name" --concurrency "$clients" \
    --duration "$DURATION" --warmup "$WARMUP" --contacts "$N" --out "$out" "$@" ||
    echo "run.sh: scenario $name did not complete (see above)" >&2
}

run_db() {
  local db=$1 url=$2 dir=$RESULTS/$1
  mkdir -p "$dir"
  local port; port=$("$PB" port)
  local base=http://127.0.0.1:$port
  DATA_DIR=$(mktemp -d /tmp/parley-bench-data.XXXXXX)

  log "$db: starting Parley on $base"
  PARLEY_ADDR=127.0.0.1:$port PARLEY_DATA_DIR=$DATA_DIR PARLEY_DATABASE_URL=$url \
    PARLEY_BOOTSTRAP_TOKEN=$PARLEY_BENCH_TOKEN PARLEY_ADMIN_PASSWORD=bench-not-a-secret \
    PARLEY_RATE_LIMIT=1000000000 PARLEY_LOG_LEVEL=warn \
    "$BIN/parley" serve >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  if ! "$PB" wait --url "$base" --pid "$SERVER_PID" --timeout 60s; then
    tail -n 30 "$dir/server.log" >&2
    return 1
  fi

  log "$db: idle RSS"
  "$PB" rss --pid "$SERVER_PID" --settle 3s --out "$dir/idle.json"

  log "$db: seeding $N contacts, $COMPANIES companies, $TAGS tags"
  timeout "$SEED_TIMEOUT" "$PB" seed --url "$base" --contacts "$N" --companies "$COMPANIES" --tags "$TAGS" \
    --pid "$SERVER_PID" --out "$dir/seed.json" ${SEED_ARGS:-} | tee "$dir/seed.txt"

  if [ "$db" = postgres ]; then
    # A million fresh rows leave autovacuum minutes of work (visibility map,
    # statistics) that would otherwise run during the measurements; a
    # production database has had it done. Do it now, outside the figures.
    log "$db: VACUUM (ANALYZE) after seeding"
    timeout 900 psql "$url" -qX -c 'VACUUM (ANALYZE)' || echo "run.sh: VACUUM failed" >&2
  fi

  log "$db: ceiling (bare net/http, same JSON)"
  local cport; cport=$("$PB" port)
  "$PB" ceiling --addr "127.0.0.1:$cport" --from-url "$base" >"$dir/ceiling.log" 2>&1 &
  CEILING_PID=$!
  "$PB" wait --url "http://127.0.0.1:$cport" --path / --pid "$CEILING_PID" --timeout 30s
  scenario get-contact "$CONCURRENCY" "$dir/ceiling.json" --url "http://127.0.0.1:$cport" --sample-url "$base"
  stop_pid "$CEILING_PID"; CEILING_PID=
  # The file says which scenario ran; the report reads it as the ceiling.

  for s in $SCENARIOS; do
    local clients=$CONCURRENCY
    case "$s" in search-*) clients=$SEARCH_CONCURRENCY ;; esac
    log "$db: $s"
    scenario "$s" "$clients" "$dir/$s.json" --url "$base" --pid "$SERVER_PID"
  done

  log "$db: idle RSS after the run"
  "$PB" rss --pid "$SERVER_PID" --settle "$AFTER_SETTLE" --out "$dir/idle-after.json"

  stop_pid "$SERVER_PID"; SERVER_PID=
  remove_data
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then commit="$commit (with uncommitted changes)"; fi
cat >"$RESULTS/meta.json" <<EOF
{"date": "$(date -u '+%Y-%m-%d %H:%M UTC')", "commit": "$commit", "contacts": $N,
 "concurrency": $CONCURRENCY, "search_concurrency": $SEARCH_CONCURRENCY,
 "warmup": "$WARMUP", "duration": "$DURATION", "go_version": "$(go env GOVERSION)"}
EOF

for db in $DATABASES; do
  case "$db" in
    sqlite)
      mkdir -p "$RESULTS/sqlite"
      echo "modernc.org/sqlite $(awk '$1 == "modernc.org/sqlite" {print $2}' go.mod) (pure Go), WAL, in the data directory" >"$RESULTS/sqlite/version.txt"
      run_db sqlite ""
      ;;
    postgres)
      PG_DB=parley_bench_$$_$RANDOM
      psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null
      mkdir -p "$RESULTS/postgres"
      echo "$(psql "$PG_ADMIN_URL" -qXtAc 'SHOW server_version'), same machine, default settings" >"$RESULTS/postgres/version.txt"
      run_db postgres "${PG_ADMIN_URL%/*}/$PG_DB?sslmode=disable"
      drop_pg
      ;;
    *) echo "run.sh: unknown database $db" >&2; exit 2 ;;
  esac
done

log "report ($RESULTS/report.md)"
"$PB" report --dir "$RESULTS" | tee "$RESULTS/report.md"
