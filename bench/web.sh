#!/usr/bin/env bash
# bench/web.sh — the web app's figures (issue 4), on SQLite then PostgreSQL.
#
# For each database: starts a fresh Parley, seeds N contacts (CSV import) and
# CONVERSATIONS conversations from them over the API (every 3rd assigned to
# the owner, every 4th closed), then, signed in as the owner:
#   - inbox: the inbox page (Your inbox, All, Unassigned, closed, sorted by
#     waiting and priority; picked at random per request), server time as
#     seen over loopback by WEB_CONCURRENCY clients, with a ceiling (a bare
#     net/http handler serving the same page's bytes);
#   - conversation: one conversation's page;
#   - contacts: the contacts list filtered by a custom attribute;
#   - the JavaScript the inbox and a conversation page ship.
# Prints a Markdown table (also $RESULTS/report.md).
#
#   bench/web.sh                                     # 1M contacts, 100k conversations
#   N=5000 CONVERSATIONS=2000 DURATION=3s bench/web.sh   # a smoke test
#
# Settings: N, CONVERSATIONS, WEB_CONCURRENCY (default 4), DURATION, WARMUP,
# DATABASES, PG_ADMIN_URL, RESULTS, KEEP_DATA (as run.sh), CONTACT_PATHS
# (space-separated contacts list URLs to measure; default: filtered by
# custom_attributes.plan and by seats).
# REUSE=1 keeps the seeded data in /tmp/parley-web-bench-sqlite and the
# database parley_webbench and seeds only when they are missing, so the
# (slow) seeding can run once, ahead of measurements on an idle machine;
# SEED_ONLY=1 stops after seeding.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
CONVERSATIONS=${CONVERSATIONS:-100000}
WEB_CONCURRENCY=${WEB_CONCURRENCY:-4}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
DATABASES=${DATABASES:-sqlite postgres}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
RESULTS=${RESULTS:-$(mktemp -d /tmp/parley-web-bench.XXXXXX)}
KEEP_DATA=${KEEP_DATA:-}
PASSWORD=bench-not-a-secret-web
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
CONTACT_PATHS=${CONTACT_PATHS:-"/app/contacts?role=user&filter=$(urlq '{"field":"custom_attributes.plan","operator":"=","value":"enterprise"}') /app/contacts?role=user&filter=$(urlq '{"operator":"AND","value":[{"field":"custom_attributes.plan","operator":"=","value":"pro"},{"field":"custom_attributes.seats","operator":">","value":150}]}')"}

. bench/lib.sh
require_local_pg "$PG_ADMIN_URL"
BIN=$RESULTS/bin
build_bins "$BIN"

SERVER_PID= PG_DB= DATA_DIR=
REUSE=${REUSE:-}
cleanup() {
  stop_pid "$SERVER_PID"; SERVER_PID=
  [ -z "$REUSE" ] || { PG_DB=; DATA_DIR=; }
  if [ -n "$PG_DB" ] && [ -z "$KEEP_DATA" ]; then psql "$PG_ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null || true; fi
  if [ -n "$DATA_DIR" ] && [ -z "$KEEP_DATA" ]; then rm -rf "$DATA_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
STEP=$(( ${DURATION%s} + ${WARMUP%s} + 120 ))

run_db() {
  local db=$1 url=$2 dir=$RESULTS/$1
  mkdir -p "$dir"
  local port; port=$("$PB" port)
  local base=http://127.0.0.1:$port
  if [ -n "${REUSE:-}" ]; then
    DATA_DIR=/tmp/parley-web-bench-$db; mkdir -p "$DATA_DIR"
  else
    DATA_DIR=$(mktemp -d /tmp/parley-web-bench-data.XXXXXX)
  fi
  local marker=/tmp/parley-web-bench-$db.seeded
  log "$db: starting Parley on $base"
  PARLEY_ADDR=127.0.0.1:$port PARLEY_DATA_DIR=$DATA_DIR PARLEY_DATABASE_URL=$url \
    PARLEY_BOOTSTRAP_TOKEN=$PARLEY_BENCH_TOKEN PARLEY_ADMIN_EMAIL=owner@bench.test PARLEY_ADMIN_PASSWORD=$PASSWORD \
    PARLEY_RATE_LIMIT=1000000000 PARLEY_LOG_LEVEL=warn \
    "$BIN/parley" serve >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  "$PB" wait --url "$base" --pid "$SERVER_PID" --timeout 60s || { tail -n 30 "$dir/server.log" >&2; return 1; }

  if [ -n "${REUSE:-}" ] && [ -f "$marker" ]; then
    log "$db: reusing the seeded data ($(cat "$marker"))"
  else
  log "$db: seeding $N contacts"
  timeout 3600 "$PB" seed --url "$base" --contacts "$N" --companies 100 --tags 20 --tag-fraction 0.001 --company-fraction 0.001 \
    --out "$dir/seed.json" | tee "$dir/seed.txt"
  log "$db: seeding $CONVERSATIONS conversations"
  timeout 3600 "$PB" seed-conversations --url "$base" --count "$CONVERSATIONS" --out "$dir/seed-conversations.json" | tee -a "$dir/seed.txt"
  if [ "$db" = postgres ]; then
    log "$db: VACUUM (ANALYZE) after seeding"
    timeout 900 psql "$url" -qX -c 'VACUUM (ANALYZE)' || echo "web.sh: VACUUM failed" >&2
  fi
  [ -z "${REUSE:-}" ] || { echo "$N contacts, $CONVERSATIONS conversations, seeded $(date -u '+%F %H:%M')" >"$marker"; cp "$dir/seed.txt" "$marker.txt"; }
  fi
  [ -z "${REUSE:-}" ] || cp "$marker.txt" "$dir/seed.txt"
  if [ -n "${SEED_ONLY:-}" ]; then stop_pid "$SERVER_PID"; SERVER_PID=; DATA_DIR=; return 0; fi
  local auth=(--url "$base" --email owner@bench.test --password "$PASSWORD")
  local common=(--concurrency "$WEB_CONCURRENCY" --duration "$DURATION" --warmup "$WARMUP")

  log "$db: inbox page"
  timeout "$STEP" "$PB" web-load "${auth[@]}" "${common[@]}" --name inbox --out "$dir/inbox.json" \
    --path /app/inbox --path '/app/inbox?view=all' --path '/app/inbox?view=unassigned' \
    --path '/app/inbox?view=all&state=closed' --path '/app/inbox?view=all&sort=waiting' --path '/app/inbox?view=all&sort=priority' \
    | tee -a "$dir/web.txt" || echo "web.sh: inbox did not complete" >&2
  local conv; conv=$(curl -s -H "Authorization: Bearer $PARLEY_BENCH_TOKEN" "$base/conversations?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["conversations"][0]["id"])')
  log "$db: conversation page"
  timeout "$STEP" "$PB" web-load "${auth[@]}" "${common[@]}" --name conversation --out "$dir/conversation.json" \
    --path "/app/conversations/$conv" | tee -a "$dir/web.txt" || echo "web.sh: conversation did not complete" >&2
  log "$db: contacts filtered by a custom attribute"
  local cargs=(); for p in $CONTACT_PATHS; do cargs+=(--path "$p"); done
  timeout "$STEP" "$PB" web-load "${auth[@]}" "${common[@]}" --name contacts-filtered --out "$dir/contacts.json" "${cargs[@]}" \
    | tee -a "$dir/web.txt" || echo "web.sh: contacts did not complete" >&2
  log "$db: JavaScript shipped"
  "$PB" web-js "${auth[@]}" --path /app/inbox --path "/app/conversations/$conv" --out "$dir/js.json" | tee -a "$dir/web.txt" || true
  "$PB" rss --pid "$SERVER_PID" --settle 1s --out "$dir/rss.json" | tee -a "$dir/web.txt" || true

  stop_pid "$SERVER_PID"; SERVER_PID=
  [ -n "$KEEP_DATA$REUSE" ] || rm -rf "$DATA_DIR"
  DATA_DIR=
}

for db in $DATABASES; do
  case "$db" in
    sqlite) run_db sqlite "" ;;
    postgres)
      if [ -n "${REUSE:-}" ]; then
        PG_DB=parley_webbench
        [ -f /tmp/parley-web-bench-postgres.seeded ] || { psql "$PG_ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null; psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null; }
        run_db postgres "${PG_ADMIN_URL%/*}/$PG_DB?sslmode=disable"
        PG_DB=
        continue
      fi
      PG_DB=parley_webbench_$$_$RANDOM
      psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null
      run_db postgres "${PG_ADMIN_URL%/*}/$PG_DB?sslmode=disable"
      [ -n "$KEEP_DATA" ] || psql "$PG_ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
      PG_DB=
      ;;
  esac
done

[ -z "${SEED_ONLY:-}" ] || exit 0
{
  echo "Web app, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), $N contacts, $CONVERSATIONS conversations, $WEB_CONCURRENCY clients, $WARMUP + $DURATION per figure"
  echo
  for db in $DATABASES; do echo "### $db"; echo; echo '```'; cat "$RESULTS/$db/seed.txt" "$RESULTS/$db/web.txt" 2>/dev/null | grep -v '^\s*$'; echo '```'; echo; done
} | tee "$RESULTS/report.md"
