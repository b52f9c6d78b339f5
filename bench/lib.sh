# bench/lib.sh — shell helpers shared by bench/run.sh and bench/ws.sh (sourced).

log() { printf '\n== %s\n' "$*" >&2; }

# require_local_pg URL: refuse a PostgreSQL anywhere but this machine.
require_local_pg() {
  case "$1" in
    postgres://*@127.0.0.1[:/]*|postgres://*@localhost[:/]*|postgresql://*@127.0.0.1[:/]*|postgresql://*@localhost[:/]*) ;;
    *) echo "$(basename "$0"): PG_ADMIN_URL must point at 127.0.0.1 or localhost" >&2; exit 2 ;;
  esac
}

# build_bins DIR: builds parley and parley-bench into DIR, sets PB, and
# exports a fresh random PARLEY_BENCH_TOKEN for the servers started.
build_bins() {
  mkdir -p "$1"
  log "building parley and parley-bench"
  go build -o "$1/parley" ./cmd/parley
  go build -o "$1/parley-bench" ./bench/cmd/parley-bench
  PB=$1/parley-bench
  PARLEY_BENCH_TOKEN=bench-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  export PARLEY_BENCH_TOKEN
}

# stop_pid PID: stop a process this script started, by pid.
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
