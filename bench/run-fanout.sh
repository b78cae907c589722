#!/usr/bin/env bash
# Fan-out per core: Strata vs Janus (streaming plugin) vs the machine's reference limit
# (issue 5). Writes docs/bench/{fanout.csv,reference.csv,joinstorm.csv,*.png,fanout.md}.
#
#   bench/run-fanout.sh [--quick] [--skip-janus] [--skip-strata] [--skip-build]
#
# Environment overrides:
#   VIEWERS="50 100 ..."  viewer counts of the sweep     DURATION=20  seconds measured per point
#   RAMP=200              viewers joining per second     BITRATE=2500000
#   PACKET_SIZES="1200 160"  reference packet sizes (video, audio)
#   STORM_VIEWERS=500     join storm size (0 = skip)     REF_SECONDS=5
#   BUILD_DIR=build/release  STRATA_BIN=...  OUT_DIR=docs/bench  JOBS=2
#   SERVER_CORE=0 BENCH_CORE=1   HTTP_PORT=8080  JANUS_PORT=8088
#
# Layout of one point: the server is started fresh (pinned to SERVER_CORE with taskset,
# except Strata --workers 2, which is left unpinned and so shares cores with the bench),
# the bench runs pinned to BENCH_CORE, the server is stopped. Raw JSON and logs go to
# $OUT_DIR/raw/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0 SKIP_JANUS=0 SKIP_STRATA=0 SKIP_BUILD=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --skip-janus) SKIP_JANUS=1 ;;
    --skip-strata) SKIP_STRATA=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

if [[ $QUICK == 1 ]]; then
  VIEWERS=${VIEWERS:-"10 20 40"}
  DURATION=${DURATION:-8}
  RAMP=${RAMP:-50}
  STORM_VIEWERS=${STORM_VIEWERS:-50}
  REF_SECONDS=${REF_SECONDS:-1}
fi
VIEWERS=${VIEWERS:-"50 100 200 300 400 600 800 1000"}
DURATION=${DURATION:-20}
RAMP=${RAMP:-200}
BITRATE=${BITRATE:-2500000}
PACKET_SIZES=${PACKET_SIZES:-"1200 160"}
STORM_VIEWERS=${STORM_VIEWERS:-500}
REF_SECONDS=${REF_SECONDS:-5}
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
STRATA_BIN=${STRATA_BIN:-$BUILD_DIR/src/app/strata}
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

log() { printf '[run-fanout %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$RAW"
: > "$COMMANDS"
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
  local cmd=(taskset -c "$BENCH_CORE" "$STRATA_BIN" bench "$@" --publish --no-simulcast
             --bitrate "$BITRATE" --viewers "$n" --ramp "$ramp" --duration "$DURATION"
             --server-pid "$SERVER_PID" --json "$RAW/$tag.json" --quiet)
  echo "${cmd[*]}" >> "$COMMANDS"
  "${cmd[@]}" > "$RAW/$tag.bench.log" 2>&1 || log "bench $tag exited with $? (see $RAW/$tag.bench.log)"
}

# ---------------------------------------------------------------- (d) result extraction
# Reads a bench JSON and prints one CSV row. Field names are looked up by several
# candidate names anywhere in the document (bench/scenarios/README.md documents the real
# ones), so a renamed or missing field leaves an empty cell instead of failing the run.
csv_row() {  # server workers viewers json rss_base_kb cpu_fallback_pct rss_fallback_kb
  python3 - "$@" <<'PY'
import json, sys
server, workers, viewers, path, rss_base, cpu_fb, rss_fb = sys.argv[1:8]
try:
    doc = json.load(open(path))
except Exception:
    doc = {}

def find(d, names):
    """First value whose key is one of `names` (dotted paths allowed), depth-first."""
    for n in names:
        cur = d
        for part in n.split('.'):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if isinstance(cur, (int, float)) and not isinstance(cur, bool):
            return cur
    if isinstance(d, dict):
        for v in d.values():
            if isinstance(v, (dict, list)):
                r = find(v, [n for n in names if '.' not in n])
                if r is not None:
                    return r
    elif isinstance(d, list):
        for v in d:
            r = find(v, [n for n in names if '.' not in n])
            if r is not None:
                return r
    return None

def fmt(v):
    return '' if v is None else (f'{v:.4g}' if isinstance(v, float) else str(v))

# Field names as documented in bench/scenarios/README.md (strata bench --json).
def get(path):
    v = doc
    for k in path.split('.'):
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v

loss = get('loss_percent.p50')            # the median viewer's loss after retransmission
cpu = get('server.cpu_avg_percent')
if cpu is None and cpu_fb:
    cpu = float(cpu_fb)
dur = get('duration_s') or 0
pkts, byts = get('totals.packets'), get('totals.bytes')
pps = pkts / dur if pkts is not None and dur else None     # received by all viewers = server egress
mbps = byts * 8 / dur / 1e6 if byts is not None and dur else None
peak = get('server.rss_peak_bytes')
rss = int(peak / 1024) if peak is not None else (int(rss_fb) if rss_fb else None)
p99 = get('connect_ms.p99')
media = get('viewers.with_media')
print(','.join([server, workers, viewers] + [fmt(v) for v in (loss, cpu, pps, mbps, rss, p99, media)]
               + [rss_base]))
PY
}

# Server CPU over the bench's measured window, used only when the JSON has none:
# utime+stime delta from /proc/PID/stat over the last DURATION seconds of the run.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

measure_point() {  # server workers pin viewers
  local server=$1 workers=$2 pin=$3 n=$4
  local tag="$server-${workers}w-$n"
  log "point: $server workers=$workers viewers=$n"
  if [[ $server == janus ]]; then start_janus "$tag"; else start_strata "$workers" "$pin" "$tag"; fi
  local base; base=$(rss_kb "$SERVER_PID")
  local extra=(--url "$STRATA_URL" --stream "$STREAM")
  [[ $server == janus ]] && extra=(--url "$JANUS_URL" --stream "$STREAM" --target janus
    --janus-url "$JANUS_URL" --mountpoint 1 --janus-video-port 5004 --janus-audio-port 5002)
  # Fallback CPU sample: start after the ramp, stop at the end of the run.
  local ramp_s=$(( (n + RAMP - 1) / RAMP ))
  run_bench "$tag" "$n" "$RAMP" "${extra[@]}" &
  local bench_pid=$!
  sleep "$ramp_s"
  local t0 c0; t0=$(date +%s.%N); c0=$(cpu_ticks "$SERVER_PID")
  wait "$bench_pid" || true
  local t1 c1; t1=$(date +%s.%N); c1=$(cpu_ticks "$SERVER_PID")
  local hz; hz=$(getconf CLK_TCK)
  local cpu_fb; cpu_fb=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
    'BEGIN { if (t1 > t0 && c1 >= c0) printf "%.1f", (c1 - c0) / hz / (t1 - t0) * 100 }')
  local rss_end; rss_end=$(rss_kb "$SERVER_PID")
  csv_row "$server" "$workers" "$n" "$RAW/$tag.json" "$base" "$cpu_fb" "$rss_end" >> "$CSV"
  stop_server
}

# ---------------------------------------------------------------- (c) reference limit
# One strata_fanout_limit run per packet size and viewer count (it pins itself to CPU 0).
# reference.csv: the packets per CPU-second for the stream's packet mix, and the CPU the
# reference loop would need for the egress rate the servers had to deliver.
run_reference() {
  log "reference limit: sizes [$PACKET_SIZES], viewers [$VIEWERS]"
  local out="$RAW/reference.jsonl"; : > "$out"
  # Twice: receivers that drop at enqueue (the send half alone), and receivers read by a
  # thread on the other core (--drain), which is what the servers face in this benchmark.
  for n in $VIEWERS; do
    for size in $PACKET_SIZES; do
      for drain in "" --drain; do
        local cmd=("$LIMIT_BIN" --viewers "$n" --packet-size "$size" --seconds "$REF_SECONDS" $drain)
        echo "${cmd[*]}" >> "$COMMANDS"
        "${cmd[@]}" 2>>"$RAW/reference.err" | grep '^{' >> "$out" || log "fanout_limit $n x $size $drain failed"
      done
    done
  done
  python3 - "$out" "$BITRATE" "$PACKET_SIZES" > "$REF_CSV" <<'PY'
import json, sys
path, bitrate, sizes = sys.argv[1], float(sys.argv[2]), sys.argv[3].split()
all_rows = [json.loads(l) for l in open(path) if l.strip()]
rows = [r for r in all_rows if not r['mode'].endswith('+drain')]
drained = [r for r in all_rows if r['mode'].endswith('+drain')]
video_size = int(sizes[0]); audio_size = int(sizes[1]) if len(sizes) > 1 else None
# Source packet mix: VP8 at BITRATE in ~video_size packets, Opus 20 ms frames (50 pps).
video_pps = bitrate / (video_size * 8); audio_pps = 50.0 if audio_size else 0.0
def mix(rs, n):
    by = {r['packet_size']: r['packets_per_cpu_s'] for r in rs if r['viewers'] == n}
    if video_size not in by:
        return None, by
    ns = video_pps * 1e9 / by[video_size]
    if audio_size in by:
        ns += audio_pps * 1e9 / by[audio_size]
    return (video_pps + audio_pps) * 1e9 / ns, by  # weighted by the mix

print('viewers,ref_pps_per_core,ref_cpu_pct,video_pps_per_core,audio_pps_per_core,ref_drain_pps_per_core')
for n in sorted({r['viewers'] for r in rows}):
    pps_per_core, by = mix(rows, n)
    if pps_per_core is None:
        continue
    drain_pps, _ = mix(drained, n)
    need = n * (video_pps + audio_pps)
    print(f"{n},{pps_per_core:.0f},{need / pps_per_core * 100:.2f},{by[video_size]:.0f},"
          f"{by.get(audio_size, 0):.0f},{'' if drain_pps is None else f'{drain_pps:.0f}'}")
PY
}

# ---------------------------------------------------------------- join storm
run_join_storm() {
  [[ $STORM_VIEWERS -gt 0 ]] || return 0
  log "join storm: $STORM_VIEWERS viewers, --ramp 0, strata --workers 2"
  local tag="storm-strata-2w-$STORM_VIEWERS"
  start_strata 2 0 "$tag"
  local base; base=$(rss_kb "$SERVER_PID")
  run_bench "$tag" "$STORM_VIEWERS" 0 --url "$STRATA_URL" --stream "$STREAM"
  local rss_end; rss_end=$(rss_kb "$SERVER_PID")
  echo "server,workers,viewers,loss_pct,server_cpu_pct,egress_pps,rx_mbps,rss_kb,connect_p99_ms,viewers_with_media,rss_base_kb" > "$STORM_CSV"
  csv_row strata 2 "$STORM_VIEWERS" "$RAW/$tag.json" "$base" "" "$rss_end" >> "$STORM_CSV"
  stop_server
}

# ---------------------------------------------------------------- (e) plots, (f) report
plot() {
  log "plots -> $OUT_DIR/*.png"
  gnuplot -e "csv='$CSV'; ref='$REF_CSV'; outdir='$OUT_DIR'" "$ROOT/bench/plot/fanout.gp"
}

report() {
  log "report -> $OUT_DIR/fanout.md"
  python3 - "$CSV" "$REF_CSV" "$STORM_CSV" "$COMMANDS" "$QUICK" "$BITRATE" "$DURATION" "$RAMP" \
    > "$OUT_DIR/fanout.md" <<'PY'
import csv, os, platform, subprocess, sys
csv_path, ref_path, storm_path, cmd_path, quick, bitrate, duration, ramp = sys.argv[1:9]
LOSS_MAX = 0.5

def rows(p):
    return list(csv.DictReader(open(p))) if os.path.exists(p) else []

def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None

def cell(v, digits=1):
    x = num(v)
    return '–' if x is None else (f'{x:.{digits}f}' if x != int(x) or digits == 0 else f'{int(x)}')

def lscpu(field):
    try:
        for line in subprocess.run(['lscpu'], capture_output=True, text=True).stdout.splitlines():
            if line.startswith(field + ':'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return '?'

data, ref, storm = rows(csv_path), rows(ref_path), rows(storm_path)
series = [('strata', '1', 'Strata, 1 worker, pinned to core 0', 1),
          ('strata', '2', 'Strata, 2 workers, unpinned (shares cores with the bench)', 2),
          ('janus', '0', 'Janus 1.1.2 streaming plugin, pinned to core 0', 1)]
out = []
w = out.append
w('# Fan-out per core: Strata vs Janus vs the reference limit')
w('')
if quick == '1':
    w('> **Quick run** (`--quick`): three small points to check the tooling, not a result.')
    w('')
w('Generated by `bench/run-fanout.sh`. One published stream (VP8 %.1f Mbit/s, no simulcast, plus Opus), '
  'N WebRTC viewers run by `strata bench` on the same machine, %s s measured per point, '
  'viewers joining at %s/s. Loss is measured at the viewers.' % (float(bitrate) / 1e6, duration, ramp))
w('')
w('## Machine')
w('')
w(f'- CPU: {lscpu("Model name")}, {lscpu("CPU(s)")} CPUs '
  f'({lscpu("Core(s) per socket")} cores/socket, {lscpu("Thread(s) per core")} threads/core)')
w(f'- Kernel: {platform.release()}')
w('')
w('## Results')
w('')
w('| server | workers | viewers | loss % | server CPU % | egress pps | rx Mbit/s | RSS KB | connect p99 ms | viewers with media |')
w('|---|---|---|---|---|---|---|---|---|---|')
for r in data:
    w(f"| {r['server']} | {r['workers']} | {r['viewers']} | {cell(r['loss_pct'], 2)} | {cell(r['server_cpu_pct'])} | "
      f"{cell(r['egress_pps'], 0)} | {cell(r['rx_mbps'])} | {cell(r['rss_kb'], 0)} | {cell(r['connect_p99_ms'])} | "
      f"{cell(r.get('viewers_with_media'), 0)} |")
w('')
w('![server CPU](fanout_cpu.png)')
w('![loss](fanout_loss.png)')
w('![egress](fanout_egress.png)')
w('')

ref_by_n = {int(num(r['viewers'])): num(r['ref_pps_per_core']) for r in ref if num(r['viewers'])}
drain_by_n = {int(num(r['viewers'])): num(r.get('ref_drain_pps_per_core')) for r in ref if num(r['viewers'])}
w(f'## Max viewers at ≤ {LOSS_MAX} % loss')
w('')
w('Per core = max viewers / cores the server may use (1 when pinned; 2 for the unpinned '
  '2-worker run, which also competes with the bench). pps per core = egress pps / (server CPU % / 100) '
  'at that point; the reference is `strata_fanout_limit` (per-viewer AES-GCM + sendmmsg, nothing else) '
  'for the same viewer count and packet mix, once with receivers that drop at enqueue and once with '
  'receivers read by a thread on the other core (`--drain`, as the bench\'s viewers are: on loopback '
  'the sender pays for queueing and waking them). A point counts as served when the median viewer\'s '
  f'loss is ≤ {LOSS_MAX} % **and** the median viewer receives ≥ 95 % of the bit rate viewers get at '
  'the lightest point (a saturated server delays rather than drops: the bench sees late packets, '
  'not lost ones).')
w('')
w('| server | max viewers | per core | egress pps per core | reference pps per core | % of reference | reference with readers | % of it |')
w('|---|---|---|---|---|---|---|---|')
best = {}
for server, workers, label, cores in series:
    pts = [r for r in data if r['server'] == server and r['workers'] == workers]
    if not pts:
        continue
    per_viewer = lambda r: (num(r['rx_mbps']) or 0) / max(1, num(r['viewers']) or 1)
    full = max(per_viewer(r) for r in pts if r is min(pts, key=lambda x: num(x['viewers'])))
    ok = [r for r in pts if num(r['loss_pct']) is not None and num(r['loss_pct']) <= LOSS_MAX
          and per_viewer(r) >= 0.95 * full]
    if not ok:
        w(f'| {label} | none | – | – | – | – | – | – |')
        continue
    top = max(ok, key=lambda r: num(r['viewers']))
    n = int(num(top['viewers']))
    pps, cpu = num(top['egress_pps']), num(top['server_cpu_pct'])
    ppc = pps / (cpu / 100) if pps and cpu else None
    refp = ref_by_n.get(n)
    best[(server, workers)] = n / cores
    capped = ' (sweep maximum)' if n == max(int(num(r['viewers'])) for r in pts) else ''
    refd = drain_by_n.get(n)
    w(f"| {label} | {n}{capped} | {n / cores:.0f} | {cell(ppc, 0)} | {cell(refp, 0)} | "
      f"{'–' if not (ppc and refp) else f'{ppc / refp * 100:.1f}'} | {cell(refd, 0)} | "
      f"{'–' if not (ppc and refd) else f'{ppc / refd * 100:.1f}'} |")
w('')
j = best.get(('janus', '0'))
for key, label in ((('strata', '1'), 'Strata 1 worker'), (('strata', '2'), 'Strata 2 workers')):
    if key in best and j:
        w(f'- {label} / Janus, viewers per core at ≤ {LOSS_MAX} % loss: **{best[key] / j:.2f}×**')
w('')
if storm:
    s = storm[0]
    n = num(s['viewers'])
    rss, base = num(s['rss_kb']), num(s.get('rss_base_kb'))
    w('## Join storm')
    w('')
    w(f"{s['viewers']} viewers with `--ramp 0` against Strata (2 workers): connect p99 "
      f"**{cell(s['connect_p99_ms'])} ms**, viewers with media **{cell(s.get('viewers_with_media'), 0)}**, "
      f"loss {cell(s['loss_pct'], 2)} %.")
    w('')
mem = []
for r in data + storm:
    rss, base, n = num(r['rss_kb']), num(r.get('rss_base_kb')), num(r['viewers'])
    if rss and base and n:
        mem.append((r['server'], r['workers'], int(n), (rss - base) / n))
if mem:
    w('## Memory per viewer')
    w('')
    w('(server RSS at the end of the run − RSS before the bench) / viewers.')
    w('')
    w('| server | workers | viewers | KB per viewer |')
    w('|---|---|---|---|')
    for server, workers, n, kb in mem:
        w(f'| {server} | {workers} | {n} | {kb:.1f} |')
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
"$STRATA_BIN" bench --help >/dev/null 2>&1 || die "$STRATA_BIN has no 'bench' subcommand"
log "machine: $(lscpu | awk -F': *' '/Model name/ {print $2}'), $(nproc) CPUs, kernel $(uname -r)"
log "sweep: viewers [$VIEWERS], ${DURATION}s per point, output $OUT_DIR"

echo "server,workers,viewers,loss_pct,server_cpu_pct,egress_pps,rx_mbps,rss_kb,connect_p99_ms,viewers_with_media,rss_base_kb" > "$CSV"
if [[ $SKIP_STRATA == 0 ]]; then
  for n in $VIEWERS; do measure_point strata 1 1 "$n"; done
  for n in $VIEWERS; do measure_point strata 2 0 "$n"; done
fi
if [[ $SKIP_JANUS == 0 ]]; then
  command -v janus >/dev/null || die "janus not installed (use --skip-janus)"
  for n in $VIEWERS; do measure_point janus 0 1 "$n"; done
fi
if [[ -x $LIMIT_BIN ]]; then run_reference; else log "no $LIMIT_BIN: reference skipped"; fi
[[ $SKIP_STRATA == 0 ]] && run_join_storm
plot
report
log "done: $OUT_DIR/fanout.md"
