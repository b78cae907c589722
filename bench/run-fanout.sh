#!/usr/bin/env bash
# Fan-out per core: Strata vs Janus (streaming plugin) vs the machine's reference limit
# (issue 5; "benchmark honesty", issue 14 item 4). Writes
# $OUT_DIR/{fanout.csv,reference.csv,joinstorm.csv,*.png,fanout.md}.
#
#   bench/run-fanout.sh [--quick] [--skip-janus] [--skip-strata] [--skip-2w] [--skip-build] [VAR=value ...]
#
# Settings come from the environment or from VAR=value arguments (e.g. OUT_DIR=/tmp/f):
#   VIEWERS="50 100 ..."  viewer counts of each sweep    DURATION=20  seconds per point after the last join
#   FAIL_STOP=2           stop a sweep after this many consecutive points not served (0 = never)
#   RAMP=200              viewers joining per second     BITRATE=2500000
#   LOSS_MAX=0.5 RATE_MIN=95 DELAY_P99_MAX=50   the "served" criterion (%, % of lightest point, ms)
#   PACKET_SIZES="1200 160"  reference packet sizes (video, audio)
#   REF_SECONDS=5 REF_REPS=3  reference run length and repetitions (median reported; 0 = skip)
#   STORM_VIEWERS=500     join storm size (0 = skip)     MEM_AT=400 LOAD_AT=80 (summary points)
#   BUILD_DIR=build/release  STRATA_BIN=... (server)  BENCH_BIN=... (load tester, default STRATA_BIN)
#   LIMIT_BIN=...  OUT_DIR=docs/bench  JOBS=2  SERVER_CORE=0 BENCH_CORE=1  HTTP_PORT=8080  JANUS_PORT=8088
#
# Layout of one point: the server is started fresh (pinned to SERVER_CORE with taskset,
# except Strata --workers 2, which is left unpinned and so shares cores with the bench),
# the bench runs pinned to BENCH_CORE, the server is stopped. Every figure of a point comes
# from the bench's measured window (2 s after the last join → end of the run, before
# teardown; JSON `window.*`): egress packets, server user/system CPU (/proc/PID/stat),
# forwarding delay, steady-state RSS. Raw JSON and logs go to $OUT_DIR/raw/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0 SKIP_JANUS=0 SKIP_STRATA=0 SKIP_2W=0 SKIP_BUILD=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --skip-janus) SKIP_JANUS=1 ;;
    --skip-strata) SKIP_STRATA=1 ;;
    --skip-2w) SKIP_2W=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [A-Z]*=*) [[ ${arg%%=*} =~ ^[A-Z][A-Z0-9_]*$ ]] || { echo "bad setting: $arg" >&2; exit 2; }
              export "$arg" ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

if [[ $QUICK == 1 ]]; then
  VIEWERS=${VIEWERS:-"10 20 40"}
  DURATION=${DURATION:-8}
  RAMP=${RAMP:-50}
  STORM_VIEWERS=${STORM_VIEWERS:-50}
  REF_SECONDS=${REF_SECONDS:-1}
  REF_REPS=${REF_REPS:-1}
fi
VIEWERS=${VIEWERS:-"50 100 200 300 400 500 600 700 800 1000 1200"}
DURATION=${DURATION:-20}
FAIL_STOP=${FAIL_STOP:-2}
RAMP=${RAMP:-200}
BITRATE=${BITRATE:-2500000}
LOSS_MAX=${LOSS_MAX:-0.5}
RATE_MIN=${RATE_MIN:-95}
DELAY_P99_MAX=${DELAY_P99_MAX:-50}
PACKET_SIZES=${PACKET_SIZES:-"1200 160"}
STORM_VIEWERS=${STORM_VIEWERS:-500}
REF_SECONDS=${REF_SECONDS:-5}
REF_REPS=${REF_REPS:-3}
MEM_AT=${MEM_AT:-400}
LOAD_AT=${LOAD_AT:-80}
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
STRATA_BIN=${STRATA_BIN:-$BUILD_DIR/src/app/strata}
BENCH_BIN=${BENCH_BIN:-$STRATA_BIN}
LIMIT_BIN=${LIMIT_BIN:-$BUILD_DIR/bench/strata_fanout_limit}
OUT_DIR=${OUT_DIR:-$ROOT/docs/bench}
JOBS=${JOBS:-2}
SERVER_CORE=${SERVER_CORE:-0}
BENCH_CORE=${BENCH_CORE:-1}
HTTP_PORT=${HTTP_PORT:-8080}
JANUS_PORT=${JANUS_PORT:-8088}
STREAM=${STREAM:-bench}
JANUS_URL="http://127.0.0.1:$JANUS_PORT/janus"
STRATA_URL="http://127.0.0.1:$HTTP_PORT"
RAW="$OUT_DIR/raw"
CSV="$OUT_DIR/fanout.csv"
REF_CSV="$OUT_DIR/reference.csv"
STORM_CSV="$OUT_DIR/joinstorm.csv"
COMMANDS="$RAW/commands.txt"
TIMES="$RAW/times.txt"   # seconds per point / per reference run, for run-time estimates
RUN_START=$(date +%s)

log() { printf '[run-fanout %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$RAW"
: > "$COMMANDS"
: > "$TIMES"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- (a) build
build() {
  [[ $SKIP_BUILD == 1 ]] && return
  if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    log "configuring Release build in $BUILD_DIR"
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  log "building strata and strata_fanout_limit (Release, -j $JOBS)"
  cmake --build "$BUILD_DIR" -j "$JOBS" --target strata strata_fanout_limit
}
# ---------------------------------------------------------------- process helpers
SERVER_PID=""
stop_server() {
  [[ -z $SERVER_PID ]] && return
  # TERM, not INT: background jobs of a non-interactive shell start with SIGINT ignored.
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT

wait_http() {  # url, method, body
  for _ in $(seq 100); do
    if curl -sf -o /dev/null -X "$2" ${3:+-d "$3"} "$1"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo ""; }

# Primary IPv4 (see bench/janus/janus.jcfg: Janus never gathers on loopback interfaces).
primary_ipv4() {
  ip -4 -o addr show scope global 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}'
}

start_strata() {  # workers pin(0|1) tag
  local cmd=("$STRATA_BIN" dev --workers "$1" --http "127.0.0.1:$HTTP_PORT" --log-level warn)
  [[ $2 == 1 ]] && cmd=(taskset -c "$SERVER_CORE" "${cmd[@]}")
  echo "${cmd[*]}" >> "$COMMANDS"
  "${cmd[@]}" > "$RAW/$3.server.log" 2>&1 &
  SERVER_PID=$!
  wait_http "$STRATA_URL/" GET || die "strata did not start (see $RAW/$3.server.log)"
}

start_janus() {  # tag
  local ip; ip=$(primary_ipv4)
  [[ -n $ip ]] || die "no global IPv4 address for Janus ICE (see bench/janus/janus.jcfg)"
  local cmd=(taskset -c "$SERVER_CORE" janus -C "$ROOT/bench/janus/janus.jcfg" -F "$ROOT/bench/janus"
             -E "$ip" -o)
  echo "${cmd[*]}" >> "$COMMANDS"
  "${cmd[@]}" > "$RAW/$1.server.log" 2>&1 &
  SERVER_PID=$!
  wait_http "$JANUS_URL" POST '{"janus":"info","transaction":"run-fanout"}' \
    || die "janus did not start (see $RAW/$1.server.log)"
  janus_mountpoint_ok || die "janus streaming mountpoint 1 missing (bench/janus/janus.plugin.streaming.jcfg)"
}

# Streaming "info" on mountpoint 1 through a throwaway session.
janus_mountpoint_ok() {
  python3 - "$JANUS_URL" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
def post(url, body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {'Content-Type': 'application/json'})
    return json.load(urllib.request.urlopen(req, timeout=5))
s = post(base, {'janus': 'create', 'transaction': 'c'})['data']['id']
h = post(f'{base}/{s}', {'janus': 'attach', 'plugin': 'janus.plugin.streaming', 'transaction': 'a'})['data']['id']
r = post(f'{base}/{s}/{h}', {'janus': 'message', 'transaction': 'i', 'body': {'request': 'info', 'id': 1}})
post(f'{base}/{s}', {'janus': 'destroy', 'transaction': 'd'})
info = r.get('plugindata', {}).get('data', {}).get('info')
sys.exit(0 if info and info.get('id') == 1 else 1)
PY
}

run_bench() {  # tag viewers ramp extra-args...
  local tag=$1 n=$2 ramp=$3; shift 3
  local cmd=(taskset -c "$BENCH_CORE" "$BENCH_BIN" bench "$@" --publish --no-simulcast
             --bitrate "$BITRATE" --viewers "$n" --ramp "$ramp" --duration "$DURATION"
             --server-pid "$SERVER_PID" --json "$RAW/$tag.json" --quiet)
  echo "${cmd[*]}" >> "$COMMANDS"
  "${cmd[@]}" > "$RAW/$tag.bench.log" 2>&1 || log "bench $tag exited with $? (see $RAW/$tag.bench.log)"
}

# ---------------------------------------------------------------- (d) result extraction
CSV_HEADER="server,workers,viewers,loss_pct,server_cpu_pct,egress_pps,rx_mbps,user_cpu_pct,sys_cpu_pct,\
window_s,egress_packets,user_s,sys_s,pkts_per_cpu_s,user_us_per_pkt,sys_us_per_pkt,kbps_per_viewer,rate_pct,\
delay_p50_ms,delay_p99_ms,delay_samples,rss_base_kb,rss_steady_kb,rss_peak_kb,kb_per_viewer,peak_kb_per_viewer,\
first_keyframe_p50_ms,first_keyframe_p99_ms,connect_p50_ms,connect_p99_ms,viewers_with_media,bench_cpu_pct,served,why_not"

# Reads a bench JSON (fields documented in bench/scenarios/README.md), appends one CSV row
# and writes "served kbps_per_viewer" to the verdict file. Rates, CPU, delay and RSS come
# from the measured window (`window.*`); loss and first-frame times from the whole run.
csv_row() {  # csv server workers viewers json rss_base_kb baseline_kbps verdict_file
  python3 - "$@" "$LOSS_MAX" "$RATE_MIN" "$DELAY_P99_MAX" <<'PY'
import csv, json, sys
(out, server, workers, viewers, path, rss_base, baseline, verdict,
 loss_max, rate_min, delay_max) = sys.argv[1:12]
n = int(viewers)
try:
    doc = json.load(open(path))
except Exception:
    doc = {}

def get(p):
    v = doc
    for k in p.split('.'):
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v

def fmt(v, digits=4):
    return '' if v is None else (f'{v:.{digits}g}' if isinstance(v, float) else str(v))

w = get('window') or {}
win = w.get('duration_s') or 0
pkts, byts = w.get('packets'), w.get('bytes')
have_cpu = bool(w.get('server_sampled'))
user = w.get('server_user_s') if have_cpu else None
sys_ = w.get('server_system_s') if have_cpu else None
pps = pkts / win if pkts is not None and win else None
mbps = byts * 8 / win / 1e6 if byts is not None and win else None
kbps_viewer = byts * 8 / win / 1e3 / n if byts is not None and win else None
cpu = (user + sys_) / win * 100 if have_cpu and win else None
user_pct = user / win * 100 if have_cpu and win else None
sys_pct = sys_ / win * 100 if have_cpu and win else None
ppc = pkts / (user + sys_) if have_cpu and pkts and (user + sys_) > 0 else None
user_us = user * 1e6 / pkts if have_cpu and pkts else None
sys_us = sys_ * 1e6 / pkts if have_cpu and pkts else None
base_kbps = float(baseline) if baseline else kbps_viewer
# Rate: packets each viewer received in the window / packets the publisher sent in it (a
# server that falls behind delivers fewer within the window even if nothing is lost later).
# Without the publisher count: the bit rate against the series' lightest point.
pub = w.get('publisher_packets')
if pkts is not None and pub:
    rate_pct = pkts / n / pub * 100
else:
    rate_pct = kbps_viewer / base_kbps * 100 if kbps_viewer is not None and base_kbps else None
d = w.get('forwarding_delay_ms') or {}
d50, d99, dn = (d.get('p50'), d.get('p99'), d.get('count')) if d.get('count') else (None, None, 0)
base_kb = int(rss_base) if rss_base else (int(get('server.rss_before_bytes') / 1024) if get('server.rss_before_bytes') else None)
steady = int(w['server_rss_end_bytes'] / 1024) if have_cpu and w.get('server_rss_end_bytes') else None
peak = int(get('server.rss_peak_bytes') / 1024) if get('server.rss_peak_bytes') else None
kb_v = (steady - base_kb) / n if steady is not None and base_kb is not None else None
peak_kb_v = (peak - base_kb) / n if peak is not None and base_kb is not None else None
loss = get('loss_percent.p50') if get('loss_percent.count') else None

def short(v):
    return 'n/a' if v is None else (f'{v:.0f}' if abs(v) >= 100 else f'{v:.3g}')
why = []
if not w:
    why.append('no measured window in the JSON')
if loss is None or loss > float(loss_max):
    why.append(f'loss {short(loss)} %')
if rate_pct is None or rate_pct < float(rate_min):
    why.append(f'rate {short(rate_pct)} %')
if d99 is None or d99 > float(delay_max):
    why.append(f'delay p99 {short(d99)} ms')
served = 0 if why else 1
kf = lambda k: get(f'first_keyframe_ms.{k}') if get('first_keyframe_ms.count') else None
cn = lambda k: get(f'connect_ms.{k}') if get('connect_ms.count') else None
row = [server, workers, viewers, fmt(loss), fmt(cpu), fmt(pps, 6), fmt(mbps), fmt(user_pct), fmt(sys_pct),
       fmt(win), fmt(pkts), fmt(user), fmt(sys_), fmt(ppc, 6), fmt(user_us), fmt(sys_us), fmt(kbps_viewer, 5),
       fmt(rate_pct), fmt(d50), fmt(d99), fmt(dn), fmt(base_kb), fmt(steady), fmt(peak), fmt(kb_v), fmt(peak_kb_v),
       fmt(kf('p50')), fmt(kf('p99')), fmt(cn('p50')), fmt(cn('p99')), fmt(get('viewers.with_media')),
       fmt(w.get('bench_cpu_percent')), str(served), '; '.join(why)]
with open(out, 'a', newline='') as f:
    csv.writer(f).writerow(row)
with open(verdict, 'w') as f:
    f.write(f"{served} {fmt(base_kbps, 6) if base_kbps else '-'} {'; '.join(why) or 'served'}\n")
PY
}

POINT_SERVED=0 POINT_BASE="" POINT_WHY=""
measure_point() {  # server workers pin viewers baseline_kbps csv
  local server=$1 workers=$2 pin=$3 n=$4 baseline=$5 csv=$6 t0=$SECONDS
  local tag="$server-${workers}w-$n"
  [[ $csv == "$STORM_CSV" ]] && tag="storm-$tag"
  log "point: $server workers=$workers viewers=$n"
  if [[ $server == janus ]]; then start_janus "$tag"; else start_strata "$workers" "$pin" "$tag"; fi
  local base; base=$(rss_kb "$SERVER_PID")
  local extra=(--url "$STRATA_URL" --stream "$STREAM")
  [[ $server == janus ]] && extra=(--url "$JANUS_URL" --stream "$STREAM" --target janus
    --janus-url "$JANUS_URL" --mountpoint 1 --janus-video-port 5004 --janus-audio-port 5002)
  local ramp=$RAMP
  [[ $csv == "$STORM_CSV" ]] && ramp=0
  rm -f "$RAW/$tag.json"
  run_bench "$tag" "$n" "$ramp" "${extra[@]}"
  python3 -c 'import json,sys; sys.exit(0 if "window" in json.load(open(sys.argv[1])) else 1)' "$RAW/$tag.json" \
    2>/dev/null || log "WARNING: $RAW/$tag.json has no measured window (bench binary $BENCH_BIN too old, or the run failed)"
  csv_row "$csv" "$server" "$workers" "$n" "$RAW/$tag.json" "$base" "$baseline" "$RAW/$tag.verdict"
  stop_server
  read -r POINT_SERVED POINT_BASE POINT_WHY < "$RAW/$tag.verdict"
  [[ $POINT_BASE == - ]] && POINT_BASE=""
  echo "point $tag $((SECONDS - t0))" >> "$TIMES"
  log "  -> $([[ $POINT_SERVED == 1 ]] && echo served || echo "NOT served ($POINT_WHY)") in $((SECONDS - t0)) s"
}

# One series over VIEWERS in increasing order, stopping after FAIL_STOP consecutive points
# that were not served. The rate criterion compares with the series' first (lightest) point.
sweep() {  # server workers pin
  local fails=0 baseline=""
  for n in $VIEWERS; do
    measure_point "$1" "$2" "$3" "$n" "$baseline" "$CSV"
    [[ -z $baseline ]] && baseline=$POINT_BASE
    if [[ $POINT_SERVED == 1 ]]; then fails=0; else fails=$((fails + 1)); fi
    if [[ $FAIL_STOP -gt 0 && $fails -ge $FAIL_STOP ]]; then
      log "$1 ${2}w: $fails consecutive points not served, sweep stops at $n viewers"
      break
    fi
  done
}

# ---------------------------------------------------------------- (c) reference limit
# strata_fanout_limit (it pins itself to CPU 0) for every viewer count a sweep measured,
# each packet size, both receiver modes, REF_REPS times; reference.csv has the medians
# (and min/max) of the packets per CPU-second for the stream's packet mix.
run_reference() {
  local counts; counts=$(python3 -c 'import csv,sys; print(" ".join(str(n) for n in sorted({int(r["viewers"]) for r in csv.DictReader(open(sys.argv[1]))})))' "$CSV")
  [[ -n $counts ]] || counts=$VIEWERS
  log "reference limit: sizes [$PACKET_SIZES], viewers [$counts], ${REF_SECONDS}s x $REF_REPS"
  local out="$RAW/reference.jsonl"; : > "$out"
  # Twice: receivers that drop at enqueue (the send half alone), and receivers read by a
  # thread on the other core (--drain), which is what the servers face in this benchmark.
  for n in $counts; do
    for size in $PACKET_SIZES; do
      for drain in "" --drain; do
        for rep in $(seq "$REF_REPS"); do
          local cmd=("$LIMIT_BIN" --viewers "$n" --packet-size "$size" --seconds "$REF_SECONDS" $drain)
          local t0=$SECONDS
          echo "${cmd[*]}" >> "$COMMANDS"
          # A stuck run (seen once on a busy machine) must not stall the whole benchmark.
          timeout --kill-after=5 "$((REF_SECONDS * 3 + 30))" "${cmd[@]}" 2>>"$RAW/reference.err" | grep '^{' >> "$out" \
            || log "fanout_limit $n x $size $drain (repetition $rep) failed or timed out"
          echo "reference $n $size ${drain:-drop} $rep $((SECONDS - t0))" >> "$TIMES"
        done
      done
    done
  done
  python3 - "$out" "$BITRATE" "$PACKET_SIZES" > "$REF_CSV" <<'PY'
import json, statistics, sys
path, bitrate, sizes = sys.argv[1], float(sys.argv[2]), sys.argv[3].split()
rows = [json.loads(l) for l in open(path) if l.strip()]
video_size = int(sizes[0]); audio_size = int(sizes[1]) if len(sizes) > 1 else None
# Source packet mix: VP8 at BITRATE in ~video_size packets, Opus 20 ms frames (50 pps).
video_pps = bitrate / (video_size * 8); audio_pps = 50.0 if audio_size else 0.0
def runs(n, size, drain):
    return [r['packets_per_cpu_s'] for r in rows if r['viewers'] == n and r['packet_size'] == size
            and r['mode'].endswith('+drain') == drain and r['packets_per_cpu_s'] > 0]
def mix(v, a):  # packets per CPU-second for the mix, from video and audio rates
    ns = video_pps * 1e9 / v + (audio_pps * 1e9 / a if a else 0)
    return (video_pps + audio_pps) * 1e9 / ns
def stats(n, drain):
    """median, min, max over repetitions of the mix (repetition i of video with i of audio)."""
    v = runs(n, video_size, drain)
    a = runs(n, audio_size, drain) if audio_size else []
    if not v:
        return None
    if audio_size and not a:
        return None
    a = a or [0] * len(v)
    m = [mix(v[i], a[min(i, len(a) - 1)]) for i in range(len(v))]
    return statistics.median(m), min(m), max(m), len(m), statistics.median(v), statistics.median(a) if any(a) else 0
print('viewers,ref_pps_per_core,ref_cpu_pct,video_pps_per_core,audio_pps_per_core,ref_drain_pps_per_core,'
      'ref_min,ref_max,ref_drain_min,ref_drain_max,repetitions')
for n in sorted({r['viewers'] for r in rows}):
    s, d = stats(n, False), stats(n, True)
    if s is None:
        continue
    need = n * (video_pps + audio_pps)
    dd = (f'{d[0]:.0f}', f'{d[1]:.0f}', f'{d[2]:.0f}') if d else ('', '', '')
    print(f"{n},{s[0]:.0f},{need / s[0] * 100:.2f},{s[4]:.0f},{s[5]:.0f},{dd[0]},{s[1]:.0f},{s[2]:.0f},{dd[1]},{dd[2]},{s[3]}")
PY
}

# ---------------------------------------------------------------- join storm
run_join_storm() {
  [[ $STORM_VIEWERS -gt 0 ]] || return 0
  log "join storm: $STORM_VIEWERS viewers, --ramp 0, strata --workers 2"
  echo "$CSV_HEADER" > "$STORM_CSV"
  measure_point strata 2 0 "$STORM_VIEWERS" "" "$STORM_CSV"
}

# ---------------------------------------------------------------- (e) plots, (f) report
plot() {
  command -v gnuplot >/dev/null || { log "no gnuplot: plots skipped"; return 0; }
  log "plots -> $OUT_DIR/*.png"
  gnuplot -e "csv='$CSV'; ref='$REF_CSV'; outdir='$OUT_DIR'" "$ROOT/bench/plot/fanout.gp" || log "gnuplot failed"
}
report() {
  log "report -> $OUT_DIR/fanout.md"
  python3 - "$CSV" "$REF_CSV" "$STORM_CSV" "$COMMANDS" "$QUICK" "$BITRATE" "$DURATION" "$RAMP" \
    "$LOSS_MAX" "$RATE_MIN" "$DELAY_P99_MAX" "$MEM_AT" "$LOAD_AT" "$FAIL_STOP" "$REF_SECONDS" "$REF_REPS" \
    "$VIEWERS" "$(( $(date +%s) - RUN_START ))" "$TIMES" > "$OUT_DIR/fanout.md" <<'PY'
import csv, os, platform, statistics, subprocess, sys
(csv_path, ref_path, storm_path, cmd_path, quick, bitrate, duration, ramp, loss_max, rate_min,
 delay_max, mem_at, load_at, fail_stop, ref_seconds, ref_reps, viewers_arg, elapsed, times_path) = sys.argv[1:20]
mem_at, load_at = float(mem_at), float(load_at)

def rows(p):
    return list(csv.DictReader(open(p))) if os.path.exists(p) else []

def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None

def cell(v, digits=1):
    x = num(v)
    if x is None:
        return '–'
    return f'{x:,.{digits}f}' if digits else f'{x:,.0f}'

def pct(a, b, digits=1):
    a, b = num(a), num(b)
    return '–' if not a or not b else f'{a / b * 100:.{digits}f} %'

def lscpu(field):
    try:
        for line in subprocess.run(['lscpu'], capture_output=True, text=True).stdout.splitlines():
            if line.startswith(field + ':'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return '?'

data, ref, storm = rows(csv_path), rows(ref_path), rows(storm_path)
ref_by_n = {int(num(r['viewers'])): r for r in ref if num(r['viewers'])}
series = [('strata', '1', 'Strata, 1 worker, pinned to core 0', 1),
          ('strata', '2', 'Strata, 2 workers, unpinned (shares cores with the bench)', 2),
          ('janus', '0', 'Janus streaming plugin, pinned to core 0', 1)]

def pts(server, workers):
    return sorted((r for r in data if r['server'] == server and r['workers'] == workers), key=lambda r: num(r['viewers']))

def served(r):
    return r.get('served') == '1'

def nearest(points, key, target):
    cand = [r for r in points if num(r[key]) is not None]
    return min(cand, key=lambda r: abs(num(r[key]) - target)) if cand else None

def ref_pct(r, col):
    ref_row = ref_by_n.get(int(num(r['viewers'])))
    return pct(r['pkts_per_cpu_s'], ref_row.get(col) if ref_row else None)

info = {}
for server, workers, label, cores in series:
    p = pts(server, workers)
    if not p:
        continue
    ok = [r for r in p if served(r)]
    top = max(ok, key=lambda r: num(r['viewers'])) if ok else None
    above = [r for r in p if top is None or num(r['viewers']) > num(top['viewers'])]
    info[(server, workers)] = dict(label=label, cores=cores, points=p, top=top,
                                   next_fail=min(above, key=lambda r: num(r['viewers'])) if above else None,
                                   capped=top is not None and top is p[-1])

out = []
w = out.append
w('# Fan-out per core: Strata vs Janus vs the reference limit')
w('')
if quick == '1':
    w('> **Quick run** (`--quick`): small points to check the tooling, not a result.')
    w('')
w(f'Generated by `bench/run-fanout.sh` in {int(elapsed) // 60} min {int(elapsed) % 60} s. One published stream '
  f'(VP8 {float(bitrate) / 1e6:.1f} Mbit/s, no simulcast, plus Opus), N WebRTC viewers run by `strata bench` on the '
  f'same machine, viewers joining at {ramp}/s, {duration} s after the last join per point. Sweep: viewers '
  f'[{viewers_arg}], a fresh server per point, each series stops after {fail_stop} consecutive points not served.')
w('')
w('**Measured window.** Every per-point figure except loss and first-frame times comes from the bench\'s '
  'measured window: from 2 s after the last join to the end of the run, before teardown '
  f'(≈ {max(0.0, float(duration) - 2):.0f} s; JSON `window.*`). Egress = packets received by all viewers in the '
  'window (≈ what the server sent: media + RTX, no RTCP). Server CPU = utime and stime of `/proc/PID/stat` '
  '(all threads) over the same window.')
w('')
w(f'**Served.** A point counts as served only if (1) the median viewer\'s loss after retransmission is ≤ {loss_max} %, '
  f'**and** (2) within the window each viewer received on average ≥ {rate_min} % of the packets the publisher sent '
  f'(a saturated server delays rather than drops; older JSON without `window.publisher_packets`: ≥ {rate_min} % of '
  'the bit rate at the series\' lightest point), **and** (3) the viewers\' forwarding delay (publisher send → '
  f'viewer receive, sampled packets in the window) has p99 ≤ {delay_max} ms. Criterion (3) is new: without it a '
  'server at 100 % CPU that queues packets for half a second still "passed".')
w('')
w('## Machine')
w('')
w(f'- CPU: {lscpu("Model name")}, {lscpu("CPU(s)")} CPUs '
  f'({lscpu("Core(s) per socket")} cores/socket, {lscpu("Thread(s) per core")} threads/core)')
w(f'- Kernel: {platform.release()}')
w('')

# ------------------------------------------------------------------ summary
w('## Summary')
w('')
s1, s2, jn = info.get(('strata', '1')), info.get(('strata', '2')), info.get(('janus', '0'))

def top_desc(i):
    if i is None:
        return 'not run'
    t = i['top']
    if t is None:
        return f"none served (lowest point {i['points'][0]['viewers']}: {i['points'][0]['why_not']})"
    s = f"**{t['viewers']}** viewers ({cell(t['server_cpu_pct'])} % CPU)"
    if i['capped']:
        s += ', the sweep\'s maximum'
    if i['next_fail'] is not None:
        s += f"; {i['next_fail']['viewers']} not served ({i['next_fail']['why_not']})"
    return s

def per_core(i):
    return num(i['top']['viewers']) / i['cores'] if i and i['top'] else None

w(f"- **Max viewers per core** (served criterion above): Strata 1 worker {top_desc(s1)}; Janus {top_desc(jn)}.")
if per_core(s1) and per_core(jn):
    bracket = ''
    if jn['next_fail'] is not None and not s1['capped']:
        hi = (num(s1['next_fail']['viewers']) if s1['next_fail'] else per_core(s1)) / num(jn['top']['viewers'])
        lo = per_core(s1) / num(jn['next_fail']['viewers'])
        bracket = f' (sweep steps: the true ratio lies between {lo:.1f}× and {hi:.1f}×)'
    ratio = per_core(s1) / per_core(jn)
    if s1['capped'] and jn['capped']:
        w(f"- Strata / Janus viewers per core: undetermined, both served the sweep's maximum ({ratio:.1f}× at it); "
          "extend VIEWERS.")
    elif s1['capped']:
        w(f"- **Strata / Janus viewers per core: ≥ {ratio:.1f}×** (Strata served the sweep's maximum; extend VIEWERS).")
    else:
        w(f"- **Strata / Janus viewers per core: {ratio:.1f}×**{bracket}.")
elif per_core(s1) and jn:
    w(f"- Strata / Janus viewers per core: Janus served no point (lowest {jn['points'][0]['viewers']}), "
      f"so > {per_core(s1) / num(jn['points'][0]['viewers']):.1f}×.")
if s1 and s1['top']:
    t = s1['top']
    w(f"- **Strata at its max ({t['viewers']} viewers): {ref_pct(t, 'ref_drain_pps_per_core')} of the reference "
      f"with readers** ({cell(t['pkts_per_cpu_s'], 0)} vs "
      f"{cell(ref_by_n.get(int(num(t['viewers'])), {}).get('ref_drain_pps_per_core'), 0)} egress packets per "
      f"CPU-second; median of {ref_reps} × {ref_seconds} s), {ref_pct(t, 'ref_pps_per_core')} of the drop-at-enqueue "
      f"reference.")
    w(f"- **User CPU per packet at Strata's max: {cell(t['user_us_per_pkt'], 2)} µs** "
      f"(system {cell(t['sys_us_per_pkt'], 2)} µs; {cell(t['user_cpu_pct'])} % user + {cell(t['sys_cpu_pct'])} % system CPU).")
mem = []
for key, name in ((('strata', '1'), 'Strata 1 worker'), (('strata', '2'), 'Strata 2 workers'), (('janus', '0'), 'Janus')):
    if key in info:
        r = nearest(info[key]['points'], 'viewers', mem_at)
        if r is not None and num(r['kb_per_viewer']) is not None:
            mem.append(f"{name} {cell(r['kb_per_viewer'], 0)} KB at {r['viewers']} viewers (peak {cell(r['peak_kb_per_viewer'], 0)} KB)")
if mem:
    w(f"- **Memory per viewer** (steady RSS at the end of the window − RSS before the bench, per viewer; nearest "
      f"point to {mem_at:.0f}): " + '; '.join(mem) + '.')
if s1 and s2:
    parts = []
    if s1['top'] and s2['top']:
        parts.append(f"at each one's max: 1 worker {cell(s1['top']['pkts_per_cpu_s'], 0)} ({s1['top']['viewers']} viewers), "
                     f"2 workers {cell(s2['top']['pkts_per_cpu_s'], 0)} ({s2['top']['viewers']} viewers)")
    both_served = sorted({r['viewers'] for r in s1['points'] if served(r)} & {r['viewers'] for r in s2['points'] if served(r)},
                         key=float)
    both = both_served or sorted({r['viewers'] for r in s1['points']} & {r['viewers'] for r in s2['points']}, key=float)
    if both:
        n = both[-1]
        a = next(r for r in s1['points'] if r['viewers'] == n)
        b = next(r for r in s2['points'] if r['viewers'] == n)
        what = 'largest load both served' if both_served else 'largest load both measured; not both served'
        parts.append(f"at {n} viewers ({what}): 1 worker {cell(a['pkts_per_cpu_s'], 0)} ({cell(a['server_cpu_pct'])} % CPU), "
                     f"2 workers {cell(b['pkts_per_cpu_s'], 0)} ({cell(b['server_cpu_pct'])} % CPU; "
                     f"2 workers / 1 worker = {pct(b['pkts_per_cpu_s'], a['pkts_per_cpu_s'])})")
    if parts:
        w('- **Egress packets per CPU-second, 1 worker vs 2 workers**: ' + '; '.join(parts) + '.')
for key, name in ((('strata', '1'), 'Strata 1 worker'), (('janus', '0'), 'Janus'), (('strata', '2'), 'Strata 2 workers')):
    if key in info:
        i = info[key]
        r = nearest(i['points'], 'server_cpu_pct', load_at * i['cores'])
        if r is not None:
            w(f"- **Forwarding delay at ~{load_at:.0f} % load, {name}**: p50 {cell(r['delay_p50_ms'], 2)} ms / "
              f"p99 {cell(r['delay_p99_ms'], 2)} ms at {r['viewers']} viewers "
              f"({cell(r['server_cpu_pct'])} % CPU{' of 200' if i['cores'] == 2 else ''}, "
              f"{'served' if served(r) else 'not served: ' + r['why_not']}).")
if storm:
    s = storm[0]
    w(f"- **Join storm** ({s['viewers']} viewers at once, Strata 2 workers): first frame p50 "
      f"{cell(s['first_keyframe_p50_ms'], 0)} ms / p99 **{cell(s['first_keyframe_p99_ms'], 0)} ms** "
      f"(POST → first keyframe packet), {cell(s['viewers_with_media'], 0)} of {s['viewers']} received media.")
w('')

# ------------------------------------------------------------------ per point tables
w('## Every point: serving')
w('')
w('CPU is % of one core (user + system). Rate = packets received per viewer in the window / packets the '
  'publisher sent in it. Bench CPU is the load tester\'s own (on its core): near 100 % the bench, not the server, '
  'may limit the point.')
w('')
w('| server | workers | viewers | served | loss % (median) | rate % | delay p50 / p99 ms | CPU user + sys % | bench CPU % | viewers with media |')
w('|---|---|---:|---|---:|---:|---:|---:|---:|---:|')
for r in data:
    srv = '✓' if served(r) else f"✗ {r['why_not']}"
    w(f"| {r['server']} | {r['workers']} | {r['viewers']} | {srv} | {cell(r['loss_pct'], 2)} | {cell(r['rate_pct'])} | "
      f"{cell(r['delay_p50_ms'], 2)} / {cell(r['delay_p99_ms'], 2)} | {cell(r['user_cpu_pct'])} + {cell(r['sys_cpu_pct'])} | "
      f"{cell(r['bench_cpu_pct'])} | {cell(r['viewers_with_media'], 0)} |")
w('')
w('## Every point: cost')
w('')
w('Egress packets per CPU-second = window egress packets / (server user + system CPU seconds in the window). '
  'The references are `strata_fanout_limit` at the same viewer count and packet mix (per-viewer AES-GCM + '
  'sendmmsg, nothing else), median of the repetitions: receivers that drop at enqueue, and receivers read by a '
  'thread on the other core (`--drain`, as the bench\'s viewers are: on loopback the sender pays for queueing and '
  'waking them). µs per packet = server CPU seconds of that kind / window egress packets.')
w('')
w('| server | workers | viewers | egress pkt/s | pkt per CPU-s | % of ref. with readers | % of ref. drop | user µs/pkt | sys µs/pkt | RSS steady / peak KB per viewer | first frame p50 / p99 ms |')
w('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for r in data:
    w(f"| {r['server']} | {r['workers']} | {r['viewers']} | {cell(r['egress_pps'], 0)} | {cell(r['pkts_per_cpu_s'], 0)} | "
      f"{ref_pct(r, 'ref_drain_pps_per_core')} | {ref_pct(r, 'ref_pps_per_core')} | {cell(r['user_us_per_pkt'], 2)} | "
      f"{cell(r['sys_us_per_pkt'], 2)} | {cell(r['kb_per_viewer'], 0)} / {cell(r['peak_kb_per_viewer'], 0)} | "
      f"{cell(r['first_keyframe_p50_ms'], 0)} / {cell(r['first_keyframe_p99_ms'], 0)} |")
w('')
w('RSS steady = at the end of the measured window; peak = the highest once-a-second sample during the run '
  '(includes the join). Both minus the server\'s RSS before the bench started, divided by viewers. '
  'First frame = POST → first VP8 keyframe packet at the viewer (`first_keyframe_ms`: `connect_ms` ends at the '
  'first RTP packet of any kind, which may be audio or an undecodable delta frame; the keyframe\'s other packets '
  'follow back-to-back).')
w('')
w('![server CPU](fanout_cpu.png)')
w('![loss](fanout_loss.png)')
w('![egress](fanout_egress.png)')
w('')

# ------------------------------------------------------------------ max per series
w('## Max viewers served, per series')
w('')
w('| series | max viewers served | per core | CPU % | pkt per CPU-s | % of ref. with readers | % of ref. drop | user µs/pkt | delay p50 / p99 ms |')
w('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
for key in (('strata', '1'), ('strata', '2'), ('janus', '0')):
    i = info.get(key)
    if not i:
        continue
    t = i['top']
    if t is None:
        w(f"| {i['label']} | none | – | – | – | – | – | – | – |")
        continue
    cap = ' (sweep maximum)' if i['capped'] else ''
    w(f"| {i['label']} | {t['viewers']}{cap} | {num(t['viewers']) / i['cores']:.0f} | {cell(t['server_cpu_pct'])} | "
      f"{cell(t['pkts_per_cpu_s'], 0)} | {ref_pct(t, 'ref_drain_pps_per_core')} | {ref_pct(t, 'ref_pps_per_core')} | "
      f"{cell(t['user_us_per_pkt'], 2)} | {cell(t['delay_p50_ms'], 2)} / {cell(t['delay_p99_ms'], 2)} |")
w('')
w(f'Nearest point to {load_at:.0f} % server CPU ({load_at * 2:.0f} % for 2 workers):')
w('')
for key in (('strata', '1'), ('strata', '2'), ('janus', '0')):
    i = info.get(key)
    if not i:
        continue
    r = nearest(i['points'], 'server_cpu_pct', load_at * i['cores'])
    if r is not None:
        w(f"- {i['label']}: {r['viewers']} viewers at {cell(r['server_cpu_pct'])} % CPU, forwarding delay p50 "
          f"{cell(r['delay_p50_ms'], 2)} ms / p99 {cell(r['delay_p99_ms'], 2)} ms, {cell(r['pkts_per_cpu_s'], 0)} "
          f"packets per CPU-second ({ref_pct(r, 'ref_drain_pps_per_core')} of the reference with readers).")
w('')

# ------------------------------------------------------------------ reference
if ref:
    w('## Reference: `strata_fanout_limit`')
    w('')
    w(f'Packets per CPU-second of the sending thread for the stream\'s packet mix, {ref_reps} repetitions × '
      f'{ref_seconds} s per viewer count, packet size and mode: median [min – max] of the repetitions.')
    w('')
    w('| viewers | drop at enqueue | with readers (`--drain`) |')
    w('|---:|---:|---:|')
    for r in ref:
        w(f"| {r['viewers']} | {cell(r['ref_pps_per_core'], 0)} [{cell(r.get('ref_min'), 0)} – {cell(r.get('ref_max'), 0)}] | "
          f"{cell(r.get('ref_drain_pps_per_core'), 0)} [{cell(r.get('ref_drain_min'), 0)} – {cell(r.get('ref_drain_max'), 0)}] |")
    w('')

if storm:
    s = storm[0]
    w('## Join storm')
    w('')
    w(f"{s['viewers']} viewers with `--ramp 0` against Strata (2 workers, unpinned): first frame (POST → first "
      f"keyframe packet) p50 **{cell(s['first_keyframe_p50_ms'], 0)} ms**, p99 **{cell(s['first_keyframe_p99_ms'], 0)} ms**; "
      f"POST → first RTP p50 {cell(s['connect_p50_ms'], 0)} ms / p99 {cell(s['connect_p99_ms'], 0)} ms; viewers with media "
      f"{cell(s['viewers_with_media'], 0)}; median loss {cell(s['loss_pct'], 2)} %; after the storm: forwarding delay "
      f"p50 {cell(s['delay_p50_ms'], 2)} / p99 {cell(s['delay_p99_ms'], 2)} ms, "
      f"{'served' if served(s) else 'not served: ' + s['why_not']}.")
    w('')

# ------------------------------------------------------------------ timing
times = [l.split() for l in open(times_path)] if os.path.exists(times_path) else []
pt = [float(t[-1]) for t in times if t and t[0] == 'point']
rf = [float(t[-1]) for t in times if t and t[0] == 'reference']
if pt:
    w('## Run time')
    w('')
    w(f'{len(pt)} points, {sum(pt):.0f} s ({sum(pt) / len(pt):.0f} s per point on average); '
      f'{len(rf)} reference runs, {sum(rf):.0f} s; total {int(elapsed)} s.')
    w('')
w('## Commands')
w('')
w('```')
w(open(cmd_path).read().rstrip() if os.path.exists(cmd_path) else '(none)')
w('```')
w('')
w('Janus runs with `bench/janus/` (streaming plugin + HTTP transport only, full ICE, '
  'half-trickle). Janus 1.1.2 never gathers candidates on loopback interfaces, so it is '
  'given the primary IPv4 with `-E`; traffic to the host\'s own address still goes '
  'through the kernel loopback device.')
print('\n'.join(out))
PY
}

# ---------------------------------------------------------------- main
build
[[ -x $STRATA_BIN ]] || die "no strata binary at $STRATA_BIN"
[[ -x $BENCH_BIN ]] || die "no load tester binary at $BENCH_BIN"
"$BENCH_BIN" bench --help >/dev/null 2>&1 || die "$BENCH_BIN has no 'bench' subcommand"
log "machine: $(lscpu | awk -F': *' '/Model name/ {print $2}'), $(nproc) CPUs, kernel $(uname -r)"
log "sweep: viewers [$VIEWERS], ${DURATION}s per point, stop after $FAIL_STOP failed points, output $OUT_DIR"

echo "$CSV_HEADER" > "$CSV"
rm -f "$STORM_CSV" "$REF_CSV"
if [[ $SKIP_STRATA == 0 ]]; then
  sweep strata 1 1
  [[ $SKIP_2W == 0 ]] && sweep strata 2 0
fi
if [[ $SKIP_JANUS == 0 ]]; then
  command -v janus >/dev/null || die "janus not installed (use --skip-janus)"
  sweep janus 0 1
fi
if [[ $REF_REPS -le 0 ]]; then log "REF_REPS=0: reference skipped"
elif [[ -x $LIMIT_BIN ]]; then run_reference; else log "no $LIMIT_BIN: reference skipped"; fi
if [[ $SKIP_STRATA == 0 ]]; then run_join_storm; fi
plot
report
log "done in $(( $(date +%s) - RUN_START )) s: $OUT_DIR/fanout.md"
