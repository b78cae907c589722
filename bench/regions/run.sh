#!/usr/bin/env bash
# The regions experiment (docs/BENCHMARKS.md, "Regions"): viewers in region B watch a host in region A, once attached
# straight to region A (direct: A's broker and edge, over the viewers' long lossy path) and once to
# their own region B (regional: B's broker and edge, which relays from A's origin over the backbone).
# Prints connection time (WHEP POST -> first frame), viewer<->server RTT (RTCP) and loss after
# retransmission, direct vs regional, with the reduction.
#
# Battle run: host A in region A and host B among the users of region B watch each other
# (tests/cluster/lib/battle_host.py: capture time stamped in the picture, one-way delay per
# frame). Once with both hosts on A's origin (B asks A's broker and joins as a guest over the
# users' long path), once through the origins (B asks B's broker and publishes on B's origin;
# the origins relay each host to the other over the backbone). Prints host-to-host delay and
# round trip (A->B + B->A), p50 and p95.
#
# Network: namespaces rga (region A), rgb (region B), rgv (viewers) joined by tools/wan-emu with
# bench/regions/profile.toml (or plain veth pairs with --net veth: no delay or loss, for development).
#
# Usage (root): bench/regions/run.sh [--viewers 50] [--procs 5] [--duration 20] [--spread 10] [--net wan|veth]
#                                    [--build build/release] [--seed 1] [--out DIR] [--only viewers|battle]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VIEWERS=50
DURATION=20
SPREAD=10
NET=wan
BUILD="$ROOT/build/release"
SEED=1
PROCS=5
OUT=""
PROFILE="$HERE/profile.toml"
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --viewers) VIEWERS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --spread) SPREAD="$2"; shift 2 ;;
    --procs) PROCS="$2"; shift 2 ;;
    --net) NET="$2"; shift 2 ;;
    --build) BUILD="$(cd "$2" && pwd)"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --profile) PROFILE="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root (network namespaces)" >&2; exit 1; }
STRATA="${STRATA_BIN:-$BUILD/src/app/strata}"
WANEMU="${WANEMU_BIN:-$BUILD/tools/wan-emu/wan-emu}"
PY=/usr/bin/python3
CLIENTS="$ROOT/tests/cluster/lib/regions_clients.py"
BATTLE="$ROOT/tests/cluster/lib/battle_host.py"
[[ -x "$STRATA" ]] || { echo "no strata binary at $STRATA (--build DIR or STRATA_BIN)" >&2; exit 1; }
[[ $NET == veth || -x "$WANEMU" ]] || { echo "no wan-emu at $WANEMU (--build DIR, WANEMU_BIN, or --net veth)" >&2; exit 1; }
OUT="${OUT:-$(mktemp -d /tmp/strata-regions.XXXXXX)}"
mkdir -p "$OUT"
echo "run.sh: logs and results in $OUT"

A=10.255.0.1; B=10.255.0.5; V=10.255.0.9
NS=(rga rgb rgv)
PIDS=()

cleanup() {
  set +e
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do kill -TERM "${PIDS[i]}" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

# start NAME NS CMD... : runs CMD in namespace NS in the background, output to $OUT/NAME.log.
start() {
  local name="$1" ns="$2"; shift 2
  ip netns exec "$ns" "$@" >"$OUT/$name.log" 2>&1 &
  PIDS+=("$!")
}

wait_http() {  # NS URL
  for _ in $(seq 150); do
    ip netns exec "$1" curl -s -o /dev/null -m 1 -w '%{http_code}' "$2" 2>/dev/null | grep -q 200 && return 0
    sleep 0.2
  done
  echo "run.sh: $2 not ready" >&2; return 1
}

# ---- network -----------------------------------------------------------------------------------
for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n rga addr add $A/32 dev lo
ip -n rgb addr add $B/32 dev lo
ip -n rgv addr add $V/32 dev lo

veth() {  # NS1 DEV1 ADDR1 NS2 DEV2 ADDR2 ROUTE-FROM-1 ROUTE-FROM-2 (the profile's links without delay)
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3/30" dev "$2"; ip -n "$1" link set "$2" up
  ip -n "$4" addr add "$6/30" dev "$5"; ip -n "$4" link set "$5" up
  ip -n "$1" route add "$7" via "$6" dev "$2"
  ip -n "$4" route add "$8" via "$3" dev "$5"
}
if [[ $NET == veth ]]; then
  veth rgv wva 10.77.1.1 rga wav 10.77.1.2 $A/32 $V/32
  veth rgv wvb 10.77.2.1 rgb wbv 10.77.2.2 $B/32 $V/32
  veth rga wab 10.77.3.1 rgb wba 10.77.3.2 $B/32 $A/32
else
  start wan-emu rga "$WANEMU" --profile "$PROFILE" --seed "$SEED"   # netns of the emulator itself does not matter
  for _ in $(seq 100); do grep -q "wan-emu: ready" "$OUT/wan-emu.log" && break; sleep 0.1; done
  grep -q "wan-emu: ready" "$OUT/wan-emu.log" || { echo "wan-emu did not come up:"; cat "$OUT/wan-emu.log"; exit 1; }
fi
ip netns exec rgv ping -c 1 -W 2 $A >/dev/null && ip netns exec rgv ping -c 1 -W 2 $B >/dev/null \
  && ip netns exec rgb ping -c 1 -W 2 $A >/dev/null || echo "run.sh: warning: a ping across the links failed (loss?)" >&2

# ---- cluster -------------------------------------------------------------------------------------
SECRET="$OUT/secret"; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET"; chmod 600 "$SECRET"
REG="redis://$A:6379"
start redis rga redis-server --port 6379 --bind $A --protected-mode no --save '' --appendonly no --dir "$OUT"
sleep 0.5
start_node() {  # NAME NS ROLE REGION IP HTTPPORT UDPPORT
  start "$1" "$2" "$STRATA" node --role "$3" --region "$4" --node-id "$1" --http "$5:$6" --public-ip "$5" \
    --udp-port "$7" --workers 1 --registry "$REG" --cluster-secret-file "$SECRET" --relay-linger 30
}
start broker-a rga "$STRATA" broker --region a --http $A:8080 --registry "$REG"
start broker-b rgb "$STRATA" broker --region b --http $B:8080 --registry "$REG"
start_node origin-a rga origin a $A 8081 40000
start_node edge-a rga edge a $A 8082 40100
start_node edge-b rgb edge b $B 8081 40000
start_node origin-b rgb origin b $B 8083 40200
for u in "rga http://$A:8080" "rgb http://$B:8080" "rga http://$A:8081" "rga http://$A:8082" "rgb http://$B:8081" \
         "rgb http://$B:8083"; do
  wait_http ${u% *} "${u#* }/healthz"
done
sleep 2   # node records reach the brokers


# battle NAME BROKER-OF-B: hosts A (region A, A's broker) and B (with the users of region B, asking
# BROKER-OF-B) watch each other for $DURATION seconds in live battle-NAME.
battle() {
  echo "run.sh: battle ($1): A via A's broker, B via $2..."
  ip netns exec rga "$PY" -u "$BATTLE" "http://$A:8080" "battle-$1" A --duration "$DURATION" >"$OUT/battle-$1-A.jsonl" 2>"$OUT/battle-$1-A.err" &
  local a=$!
  ip netns exec rgv "$PY" -u "$BATTLE" "$2" "battle-$1" B --duration "$DURATION" >"$OUT/battle-$1-B.jsonl" 2>"$OUT/battle-$1-B.err" &
  local b=$!
  wait $a $b || true
}
if [[ $ONLY != viewers ]]; then
  battle one-origin "http://$A:8080"
  battle origins "http://$B:8080"
  "$PY" - "$OUT" <<'PYEOF' | tee "$OUT/battle.md"
import json, sys
out = sys.argv[1]
def result(run, who):
    for line in open(f"{out}/battle-{run}-{who}.jsonl"):
        if line.startswith("{") and '"result"' in line:
            return json.loads(line)
    return None
print("| battle | B's origin | A->B p50 / p95 (ms) | B->A p50 / p95 (ms) | host-to-host RTT p50 / p95 (ms) | frames A, B |")
print("|---|---|---|---|---|---|")
for run, label in (("one-origin", "both hosts on A's origin"), ("origins", "each host on its region's origin")):
    a, b = result(run, "A"), result(run, "B")
    if not a or not b or "one_way_ms" not in a or "one_way_ms" not in b:
        print(f"| {label} | - | failed: see battle-{run}-*.jsonl | | | |")
        continue
    node = b["publish_location"].split("/")[2]
    ab, ba = b["one_way_ms"], a["one_way_ms"]  # what B saw of A, what A saw of B
    print(f"| {label} | {node} | {ab['p50']:.0f} / {ab['p95']:.0f} | {ba['p50']:.0f} / {ba['p95']:.0f} | "
          f"{ab['p50'] + ba['p50']:.0f} / {ab['p95'] + ba['p95']:.0f} | {a['samples']}, {b['samples']} |")
PYEOF
  [[ $ONLY == battle ]] && exit 0
fi

start host rga "$PY" -u "$CLIENTS" host "http://$A:8080" live --size 160x120 --fps 15
for _ in $(seq 100); do grep -q '"published"' "$OUT/host.log" && break; sleep 0.2; done
grep -q '"published"' "$OUT/host.log" || { echo "host did not publish:"; cat "$OUT/host.log"; exit 1; }
sleep 2

run_viewers() {  # NAME BROKER: $VIEWERS viewers in $PROCS processes (less event-loop lag each)
  echo "run.sh: $VIEWERS viewers via $2 ($1, $PROCS processes)..."
  local pids=() p n
  for ((p=0; p<PROCS; p++)); do
    n=$(( VIEWERS / PROCS + (p < VIEWERS % PROCS ? 1 : 0) ))
    ip netns exec rgv "$PY" -u "$CLIENTS" viewers "$2" live --count "$n" --duration "$DURATION" \
      --spread-s "$SPREAD" --timeout 30 --id-prefix "p$p" >"$OUT/viewers-$1.$p.jsonl" 2>"$OUT/viewers-$1.$p.err" &
    pids+=("$!")
  done
  wait "${pids[@]}" || true
  cat "$OUT"/viewers-"$1".*.jsonl >"$OUT/viewers-$1.jsonl"
  grep '"summary"' "$OUT/viewers-$1.jsonl" || echo "run.sh: viewers ($1) did not finish" >&2
}
run_viewers direct "http://$A:8080"
run_viewers regional "http://$B:8080"
curl_streams() { ip netns exec rgb curl -s -m 3 "http://$B:8080/api/v1/streams"; echo; }
curl_streams >"$OUT/streams-b.json"

"$PY" "$HERE/table.py" "$OUT/viewers-direct.jsonl" "$OUT/viewers-regional.jsonl" "$VIEWERS" | tee "$OUT/table.md"
