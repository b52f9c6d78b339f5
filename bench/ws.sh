#!/usr/bin/env bash
# bench/ws.sh — Parley's WebSocket benchmark (issue 3 §6), one command.
#
# Builds parley and parley-bench and, in one run on this machine:
#   1. the ceiling: bench/echo (a minimal echo/broadcast server on the same
#      WebSocket library, github.com/coder/websocket) — holds CONNS sockets
#      (server RSS per socket), then delivers RATE messages/s to RECEIVERS
#      subscribed sockets (latency);
#   2. Parley on SQLite (fresh temp data dir): holds CONNS sockets — Messenger
#      sockets when the Messenger endpoints exist (a booted visitor per socket,
#      see VISITORS), and teammate sockets
#      (GET /realtime) — then visitor replies at RATE/s (see VIA) received on
#      RECEIVERS teammate sockets;
#   3. Parley on PostgreSQL, the latency again (when "postgres" is in DATABASES).
#   (Visitors write through the Messenger when this build has it; see VIA.)
# Prints a Markdown table for docs/benchmarks.md (also $RESULTS/report.md),
# with the load average before and after: figures on a busy machine say so.
#
#   bench/ws.sh                                   # the full run (about 3 minutes)
#   CONNS=1000 DURATION=3s WARMUP=1s bench/ws.sh  # a quick smoke test
#
# Settings (environment):
#   CONNS          sockets to hold (default 10000); needs `ulimit -n` above it
#                  (every process here raises its soft limit to the hard one)
#   VISITORS       Messenger visitors booted for the held sockets, which are spread over
#                  their sessions (default 0: one visitor per socket)
#   RATE           messages per second for the latency (default 1000)
#   RECEIVERS      sockets receiving every message (default 1)
#   CONVERSATIONS  conversations the replies are spread over (default 500)
#   VIA            how visitors write: messenger (POST /messenger/v1/conversations/{id}/reply
#                  with each visitor's session), rest (POST /conversations/{id}/reply, type
#                  user, with the token; its answer is the whole conversation, so it slows
#                  down as conversations grow) or auto (default: messenger when it exists)
#   WARMUP, DURATION  latency warm-up (not measured) and measured time (default 3s, 20s)
#   HOLD           how long the sockets are held while the RSS is sampled (default 10s)
#   DATABASES      "sqlite postgres" (default) or one of them
#   TARGETS        what holds sockets on Parley: "messenger teammate" (default; messenger
#                  is skipped with a note when the endpoint does not exist)
#   PG_ADMIN_URL   PostgreSQL to create the throwaway database on (loopback only;
#                  default postgres://postgres@127.0.0.1:5432/test)
#   PARTS          "hold latency" (default) or one of them
#   PPROF=1        serve Parley's pprof on a free port; save its heap profile and
#                  goroutines while the sockets are held ($RESULTS/sqlite/heap-*), and a
#                  CPU profile of the latency's measured window ($RESULTS/DB/cpu-latency.pb.gz)
#   RESULTS        directory for results (default a new /tmp/parley-wsbench.*)
#
# Everything listens on and targets 127.0.0.1 (sockets come from 127.0.0.x);
# every step runs under `timeout`; what it starts is stopped by pid on exit.
set -euo pipefail

# The whole script is one function, read before it runs: editing this file
# during a run does not change the run.
main() {
cd "$(dirname "$0")/.."

CONNS=${CONNS:-10000}
VISITORS=${VISITORS:-0}
RATE=${RATE:-1000}
RECEIVERS=${RECEIVERS:-1}
CONVERSATIONS=${CONVERSATIONS:-500}
VIA=${VIA:-auto}
WARMUP=${WARMUP:-3s}
DURATION=${DURATION:-20s}
HOLD=${HOLD:-10s}
DATABASES=${DATABASES:-sqlite postgres}
TARGETS=${TARGETS:-messenger teammate}
PARTS=${PARTS:-hold latency}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
PPROF=${PPROF:-}
RESULTS=${RESULTS:-$(mktemp -d /tmp/parley-wsbench.XXXXXX)}

. bench/lib.sh
require_local_pg "$PG_ADMIN_URL"

# Raise this shell's soft open-files limit to the hard one (children inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -le $(( CONNS + 100 )) ]; then
  echo "ws.sh: CONNS=$CONNS needs more open files than \`ulimit -Hn\` ($(ulimit -Hn)) allows; raise it (e.g. /etc/security/limits.conf, or 'ulimit -Hn 65536' as root)" >&2
  exit 2
fi

STEP_TIMEOUT=600
BIN=$RESULTS/bin
build_bins "$BIN"

SERVER_PID= ECHO_PID= PG_DB= DATA_DIR=
cleanup() {
  stop_pid "$ECHO_PID"; ECHO_PID=
  stop_pid "$SERVER_PID"; SERVER_PID=
  if [ -n "$PG_DB" ]; then
    psql "$PG_ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    PG_DB=
  fi
  [ -z "$DATA_DIR" ] || rm -rf "$DATA_DIR"
  DATA_DIR=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(loadavg)

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
hold() { # hold TARGET URL PID OUT [extra flags]: never fatal
  local target=$1 url=$2 pid=$3 out=$4; shift 4
  part hold || return 0
  timeout "$STEP_TIMEOUT" "$PB" ws-hold --target "$target" --url "$url" --pid "$pid" --conns "$CONNS" \
    --hold "$HOLD" --out "$out" "$@" || echo "ws.sh: ws-hold $target did not complete (see above)" >&2
}
latency() { # latency TARGET URL PID OUT [extra flags]: never fatal
  local target=$1 url=$2 pid=$3 out=$4; shift 4
  part latency || return 0
  timeout "$STEP_TIMEOUT" "$PB" ws-latency --target "$target" --url "$url" --pid "$pid" --rate "$RATE" \
    --receivers "$RECEIVERS" --conversations "$CONVERSATIONS" --warmup "$WARMUP" --duration "$DURATION" \
    --out "$out" "$@" || echo "ws.sh: ws-latency $target did not complete (see above)" >&2
}

# 1. The ceiling.
log "echo server (bench/echo, coder/websocket): hold $CONNS sockets, then $RATE msg/s"
eport=$("$PB" port)
"$PB" ws-echo --addr "127.0.0.1:$eport" >"$RESULTS/echo.log" 2>&1 &
ECHO_PID=$!
"$PB" wait --url "http://127.0.0.1:$eport" --pid "$ECHO_PID" --timeout 30s
hold echo "http://127.0.0.1:$eport" "$ECHO_PID" "$RESULTS/hold-echo.json"
latency echo "http://127.0.0.1:$eport" "$ECHO_PID" "$RESULTS/latency-echo.json"
stop_pid "$ECHO_PID"; ECHO_PID=

start_parley() { # start_parley DB DATABASE_URL: sets SERVER_PID, BASE
  local db=$1 url=$2 port pprof_env=()
  port=$("$PB" port)
  BASE=http://127.0.0.1:$port
  DATA_DIR=$(mktemp -d /tmp/parley-wsbench-data.XXXXXX)
  if [ -n "$PPROF" ]; then
    PPROF_ADDR=127.0.0.1:$("$PB" port)
    pprof_env=(PARLEY_PPROF_ADDR="$PPROF_ADDR")
  fi
  mkdir -p "$RESULTS/$db"
  env PARLEY_ADDR="127.0.0.1:$port" PARLEY_DATA_DIR="$DATA_DIR" PARLEY_DATABASE_URL="$url" \
    PARLEY_BOOTSTRAP_TOKEN="$PARLEY_BENCH_TOKEN" PARLEY_ADMIN_PASSWORD=bench-not-a-secret \
    PARLEY_RATE_LIMIT=1000000000 PARLEY_LOG_LEVEL=warn "${pprof_env[@]}" \
    "$BIN/parley" serve >"$RESULTS/$db/server.log" 2>&1 &
  SERVER_PID=$!
  if ! "$PB" wait --url "$BASE" --pid "$SERVER_PID" --timeout 60s; then
    tail -n 30 "$RESULTS/$db/server.log" >&2
    return 1
  fi
}
stop_parley() {
  stop_pid "$SERVER_PID"; SERVER_PID=
  [ -z "$DATA_DIR" ] || rm -rf "$DATA_DIR"
  DATA_DIR=
}

messenger_exists() { # the boot endpoint answers something other than 404/405
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$BASE/messenger/v1/boot" || true)
  [ "$code" != 404 ] && [ "$code" != 405 ] && [ "$code" != 000 ]
}

for db in $DATABASES; do
  case "$db" in
    sqlite) url="" ;;
    postgres)
      PG_DB=parley_wsbench_$$_$RANDOM
      if ! psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null; then
        echo "ws.sh: cannot create a PostgreSQL database on $PG_ADMIN_URL; skipping postgres" >&2
        PG_DB=; continue
      fi
      url="${PG_ADMIN_URL%/*}/$PG_DB?sslmode=disable" ;;
    *) echo "ws.sh: unknown database $db" >&2; exit 2 ;;
  esac
  if [ "$db" = sqlite ] && part hold; then
    # Memory per socket is measured on SQLite (the database does not change
    # what a held socket costs), each kind on a fresh Parley so that its
    # "before" is an idle server.
    for target in $TARGETS; do
      log "$db: starting Parley"
      start_parley "$db" "$url"
      if [ "$target" = messenger ] && ! messenger_exists; then
        echo "ws.sh: no Messenger endpoints on this build (POST /messenger/v1/boot is 404): messenger sockets not measured" | tee "$RESULTS/messenger-skipped.txt" >&2
        stop_parley
        continue
      fi
      log "$db: hold $CONNS $target sockets"
      prof=()
      [ -z "$PPROF" ] || prof=(--pprof "http://$PPROF_ADDR/debug/pprof" --profile-dir "$RESULTS/$db")
      hold "$target" "$BASE" "$SERVER_PID" "$RESULTS/hold-$target.json" --visitors "$VISITORS" "${prof[@]}"
      stop_parley
    done
  fi
  part latency || continue
  log "$db: starting Parley"
  start_parley "$db" "$url"
  log "$db: visitor → teammate latency at $RATE msg/s"
  extra=()
  [ -z "$PPROF" ] || extra=(--pprof "http://$PPROF_ADDR/debug/pprof" --profile "$RESULTS/$db/cpu-latency.pb.gz")
  via=$VIA
  if [ "$via" = auto ]; then
    if messenger_exists; then via=messenger; else via=rest; fi
  fi
  extra+=(--via "$via")
  latency teammate "$BASE" "$SERVER_PID" "$RESULTS/latency-teammate-$db.json" "${extra[@]}"
  stop_parley
  if [ -n "$PG_DB" ]; then
    psql "$PG_ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    PG_DB=
  fi
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then commit="$commit (with uncommitted changes)"; fi
cat >"$RESULTS/meta.json" <<EOF
{"date": "$(date -u '+%Y-%m-%d %H:%M UTC')", "commit": "$commit", "go_version": "$(go env GOVERSION)",
 "cpus": $(nproc), "loadavg_start": "$LOAD_START", "loadavg_end": "$(loadavg)", "ulimit_n": "$(ulimit -n)"}
EOF

log "report ($RESULTS/report.md)"
"$PB" ws-report --dir "$RESULTS" | tee "$RESULTS/report.md"
}
main "$@"
exit
