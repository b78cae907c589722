#!/usr/bin/env bash
# The soak (issue 13): `strata dev` built with AddressSanitizer (LeakSanitizer included) and
# UndefinedBehaviorSanitizer serves a churn scenario run by a Release `strata bench`
# (bench/scenarios/README.md, "Churn"): VIEWERS viewers of the bench's own host, JOINS new
# ones and LEAVES random ones leaving every second, the host restarting every RESTART s.
# The server's RSS is sampled every SAMPLE s. At the end the server gets SIGTERM and the
# run passes when:
#   - the server was alive until then and exited with status 0 within 60 s of SIGTERM;
#   - its stderr has no ASan, LSan or UBSan report (LeakSanitizer runs at exit);
#   - RSS growth < RSS_MAX_GROWTH %: (median RSS of the last WINDOW s − median RSS of the
#     WINDOW s after the first WARMUP s) / the latter;
#   - the bench exited 0 (every join got media, except sessions a restart cut; every
#     restarted host came back).
#
#   bench/soak/run.sh [--duration S] [--viewers N] [--joins R] [--leaves R] [--restart S]
#                     [--ramp R] [--bitrate BPS] [--workers N] [--warmup S] [--window S]
#                     [--sample S] [--rss-max-growth PCT] [--asan-build DIR] [--bench-build DIR]
#                     [--strata-bin PATH] [--bench-bin PATH] [--skip-build] [--jobs N]
#                     [--log-level L] [--out DIR]
#
# Defaults: 1800 s, 300 viewers, 10 joins/s, 10 leaves/s, a restart every 300 s, ramp 20/s,
# 500 kbit/s top layer (simulcast q/h/f), 2 workers, warm-up and window 300 s (each at most
# a third of the run), samples every 10 s, growth < 5 %. Builds (unless --skip-build, or
# --strata-bin / --bench-bin given): `strata` with -DSTRATA_SANITIZE=ON, RelWithDebInfo, in
# build/asan-soak; the bench in Release in build/release-soak. Output in --out (default
# build/soak/<date>): rss.csv (t_s, server_rss_kb, bench_rss_kb), server.log (the server's
# stderr: sanitizer reports land here), bench.json, bench.log, scenario.json, commands.txt,
# summary.txt. Exit status 0 = every criterion met, 1 = one failed, 2 = bad usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

DURATION=1800 VIEWERS=300 JOINS=10 LEAVES=10 RESTART=300 RAMP=20 BITRATE=500000 WORKERS=2
WARMUP="" WINDOW="" SAMPLE=10 RSS_MAX_GROWTH=5 JOBS=2 LOG_LEVEL=warn SKIP_BUILD=0
ASAN_DIR=$ROOT/build/asan-soak BENCH_DIR=$ROOT/build/release-soak STRATA_BIN="" BENCH_BIN=""
OUT=$ROOT/build/soak/$(date +%Y%m%d-%H%M%S)

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION=$2; shift ;;
    --viewers) VIEWERS=$2; shift ;;
    --joins) JOINS=$2; shift ;;
    --leaves) LEAVES=$2; shift ;;
    --restart) RESTART=$2; shift ;;
    --ramp) RAMP=$2; shift ;;
    --bitrate) BITRATE=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --window) WINDOW=$2; shift ;;
    --sample) SAMPLE=$2; shift ;;
    --rss-max-growth) RSS_MAX_GROWTH=$2; shift ;;
    --asan-build) ASAN_DIR=$(realpath -m "$2"); shift ;;
    --bench-build) BENCH_DIR=$(realpath -m "$2"); shift ;;
    --strata-bin) STRATA_BIN=$(realpath -m "$2"); shift ;;
    --bench-bin) BENCH_BIN=$(realpath -m "$2"); shift ;;
    --skip-build) SKIP_BUILD=1 ;;
    --jobs) JOBS=$2; shift ;;
    --log-level) LOG_LEVEL=$2; shift ;;
    --out) OUT=$(realpath -m "$2"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
# Warm-up and window scale down for short (smoke) runs: three of them must fit.
third=$((DURATION / 3))
WARMUP=${WARMUP:-$((third < 300 ? third : 300))}
WINDOW=${WINDOW:-$((third < 300 ? third : 300))}
if (( WARMUP + 2 * WINDOW > DURATION )); then
  echo "--warmup ($WARMUP) + 2 x --window ($WINDOW) must fit in --duration ($DURATION)" >&2
  exit 2
fi
if (( RESTART != 0 && RESTART >= DURATION )); then
  echo "--restart ($RESTART) must be shorter than --duration ($DURATION), or 0 (never)" >&2
  exit 2
fi
STRATA_BIN=${STRATA_BIN:-$ASAN_DIR/src/app/strata}
BENCH_BIN=${BENCH_BIN:-$BENCH_DIR/src/app/strata}

log() { printf '[soak %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$OUT"
: > "$OUT/commands.txt"
# Logs a command, then runs it. Background processes are started by hand after
# `logged`: `run_logged ... &` would make $! a subshell's pid, not the program's.
logged() { echo "$*" >> "$OUT/commands.txt"; }
run_logged() { logged "$@"; "$@"; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- builds
build() {  # dir build-type extra-cmake-args...
  local dir=$1 type=$2; shift 2
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    log "configuring $type build in $dir"
    run_logged cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  fi
  log "building strata in $dir (-j $JOBS)"
  run_logged cmake --build "$dir" -j "$JOBS" --target strata
}
if [[ $SKIP_BUILD == 0 ]]; then
  # STRATA_SANITIZE sets global compile and link options: the strata binary gets them too.
  [[ $STRATA_BIN == "$ASAN_DIR/src/app/strata" ]] && build "$ASAN_DIR" RelWithDebInfo -DSTRATA_SANITIZE=ON
  [[ $BENCH_BIN == "$BENCH_DIR/src/app/strata" ]] && build "$BENCH_DIR" Release
fi
[[ -x $STRATA_BIN ]] || die "no server binary at $STRATA_BIN"
[[ -x $BENCH_BIN ]] || die "no bench binary at $BENCH_BIN"
deps=$(ldd "$STRATA_BIN" 2>/dev/null || true)
[[ $deps == *libasan* && $deps == *libubsan* ]] || log "WARNING: $STRATA_BIN is not linked with libasan and libubsan"

# ---------------------------------------------------------------- server
# Free ports: HTTP from the kernel, a UDP range of WORKERS ports (worker i uses port+i).
read -r HTTP_PORT UDP_PORT < <(python3 - "$WORKERS" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
t = socket.socket(); t.bind(("127.0.0.1", 0)); http = t.getsockname()[1]; t.close()
for _ in range(200):
    p = random.randint(20000, 59000)
    socks = []
    try:
        for i in range(n):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); socks.append(u); u.bind(("0.0.0.0", p + i))
        break
    except OSError:
        pass
    finally:
        for u in socks: u.close()
print(http, p)
PY
)
URL="http://127.0.0.1:$HTTP_PORT"
# Leaks are reported at exit (LeakSanitizer); UBSan halts on its first finding (the build
# has -fno-sanitize-recover=undefined) and prints where.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:check_initialization_order=1:strict_init_order=1${ASAN_EXTRA:+:$ASAN_EXTRA}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
echo "ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS" >> "$OUT/commands.txt"
SERVER_PID="" BENCH_PID=""
stop_on_exit() {  # an interrupted run leaves nothing behind
  for pid in $BENCH_PID $SERVER_PID; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap stop_on_exit EXIT
SERVER_CMD=("$STRATA_BIN" dev --http "127.0.0.1:$HTTP_PORT" --udp-port "$UDP_PORT" --public-ip 127.0.0.1
            --workers "$WORKERS" --log-level "$LOG_LEVEL")
logged "${SERVER_CMD[@]}"
"${SERVER_CMD[@]}" > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  curl -sf -o /dev/null "$URL/healthz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at start (see $OUT/server.log)"
  sleep 0.1
done
curl -sf -o /dev/null "$URL/healthz" || die "the server did not answer /healthz within 30 s"
log "server pid $SERVER_PID on $URL (udp $UDP_PORT..), output in $OUT"

# ---------------------------------------------------------------- bench + RSS sampling
cat > "$OUT/scenario.json" <<EOF
{"hosts": 1, "duration_s": $DURATION,
 "churn": {"viewers": $VIEWERS, "ramp": $RAMP, "joins_per_s": $JOINS, "leaves_per_s": $LEAVES,
           "host_restart_s": $RESTART, "seed": 1}}
EOF
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || true; }
sample_rss() {  # bench-pid: one row every SAMPLE s while the bench runs
  local start=$SECONDS
  echo "t_s,server_rss_kb,bench_rss_kb" > "$OUT/rss.csv"
  while kill -0 "$1" 2>/dev/null; do
    echo "$((SECONDS - start)),$(rss_kb "$SERVER_PID"),$(rss_kb "$1")" >> "$OUT/rss.csv"
    sleep "$SAMPLE"
  done
}
log "bench: $VIEWERS viewers, $JOINS joins/s, $LEAVES leaves/s, host restart every ${RESTART} s, ${DURATION} s"
BENCH_CMD=("$BENCH_BIN" bench --url "$URL" --stream soak --publish --bitrate "$BITRATE"
           --scenario "$OUT/scenario.json" --server-pid "$SERVER_PID" --json "$OUT/bench.json")
logged "${BENCH_CMD[@]}"
"${BENCH_CMD[@]}" > "$OUT/bench.out" 2> "$OUT/bench.log" &
BENCH_PID=$!
sample_rss "$BENCH_PID" &
SAMPLER_PID=$!
BENCH_STATUS=0
wait "$BENCH_PID" || BENCH_STATUS=$?
BENCH_PID=""
wait "$SAMPLER_PID" || true
cat "$OUT/bench.out" >&2

# ---------------------------------------------------------------- shutdown
SERVER_ALIVE=1
kill -0 "$SERVER_PID" 2>/dev/null || SERVER_ALIVE=0
SERVER_STATUS=dead
SHUTDOWN_S=""
if [[ $SERVER_ALIVE == 1 ]]; then
  log "SIGTERM to the server; LeakSanitizer runs at its exit"
  t0=$SECONDS
  kill -TERM "$SERVER_PID"
  for _ in $(seq 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    SERVER_STATUS=hung
    kill -ABRT "$SERVER_PID" 2>/dev/null || true  # ASan prints the threads' stacks
    sleep 5
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_STATUS_CODE=0
  wait "$SERVER_PID" || SERVER_STATUS_CODE=$?
  [[ $SERVER_STATUS == hung ]] || SERVER_STATUS=$SERVER_STATUS_CODE
  SHUTDOWN_S=$((SECONDS - t0))
else
  wait "$SERVER_PID" || true
fi
SERVER_PID=""

# ---------------------------------------------------------------- verdict
python3 "$ROOT/bench/soak/verdict.py" --out "$OUT" --server-alive "$SERVER_ALIVE" \
  --server-status "$SERVER_STATUS" --shutdown-s "$SHUTDOWN_S" --bench-status "$BENCH_STATUS" \
  --duration "$DURATION" --warmup "$WARMUP" --window "$WINDOW" --rss-max-growth "$RSS_MAX_GROWTH" \
  | tee "$OUT/summary.txt"
exit "${PIPESTATUS[0]}"
