#!/usr/bin/env bash
# Integration check for wan-emu: two fresh network namespaces joined by one emulated link.
#  1. 50 ms each way, no loss: ping RTT ~100 ms.
#  2. 20% loss on a->b only: ~20% ping loss.
#  3. A profile naming a missing namespace: non-zero exit and a clear message.
# Needs root (netns, TUN); exits 77 (ctest SKIP) otherwise. Usage: ping_test.sh path/to/wan-emu
set -u
BIN=${1:?usage: ping_test.sh path/to/wan-emu}

skip() { echo "SKIP: wan_emu_ping: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces and TUN)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null && command -v ping >/dev/null || skip "needs ip and ping"

NA="wemu$$a"
NB="wemu$$b"
TMP=$(mktemp -d)
EMU_PID=""
FAILED=0

cleanup() {
  [ -n "$EMU_PID" ] && kill -TERM "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
  ip netns del "$NA" 2>/dev/null
  ip netns del "$NB" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NA" && ip netns add "$NB" || skip "cannot create network namespaces"
ip -n "$NA" link set lo up
ip -n "$NB" link set lo up

write_profile() {  # $1 = loss a->b
  cat >"$TMP/profile.toml" <<TOML
[[link]]
name = "test"
a = { netns = "$NA", dev = "wemuA", addr = "10.77.99.1/30" }
b = { netns = "$NB", dev = "wemuB", addr = "10.77.99.2/30" }
a_to_b = { delay_ms = 50, loss = $1 }
b_to_a = { delay_ms = 50 }
TOML
}

start_emu() {
  "$BIN" --profile "$TMP/profile.toml" --seed 7 >"$TMP/out" 2>"$TMP/err" &
  EMU_PID=$!
  for _ in $(seq 100); do
    grep -q "wan-emu: ready" "$TMP/out" && return 0
    kill -0 "$EMU_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL: wan-emu did not get ready: $(cat "$TMP/err")"
  exit 1
}

stop_emu() {
  kill -TERM "$EMU_PID"
  wait "$EMU_PID"
  local rc=$?
  EMU_PID=""
  [ $rc = 0 ] || { echo "FAIL: wan-emu exited $rc: $(cat "$TMP/err")"; FAILED=1; }
  grep -q '"packets_in"' "$TMP/out" || { echo "FAIL: no JSON counters on stdout"; FAILED=1; }
  if ip -n "$NA" link show wemuA >/dev/null 2>&1; then echo "FAIL: TUN device left behind"; FAILED=1; fi
}

check_range() {  # name value lo hi
  if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
    echo "ok: $1 = $2 (expected $3..$4)"
  else
    echo "FAIL: $1 = $2 (expected $3..$4)"
    FAILED=1
  fi
}

# 1. Delay.
write_profile 0
start_emu
OUT=$(ip netns exec "$NA" ping -c 5 -i 0.2 -W 2 10.77.99.2)
echo "$OUT" | tail -2
RTT=$(echo "$OUT" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
check_range "avg RTT ms" "${RTT:-0}" 99 130
stop_emu

# 2. Loss on one direction.
write_profile 0.2
start_emu
OUT=$(ip netns exec "$NA" ping -q -c 200 -i 0.01 -W 1 10.77.99.2)
echo "$OUT" | tail -2
LOSS=$(echo "$OUT" | sed -n 's|.* \([0-9.]*\)% packet loss.*|\1|p')
check_range "ping loss %" "${LOSS:-0}" 10 32
stop_emu
sed -n '/"a_to_b"/,/}/p' "$TMP/out" | tr -d ' \n'; echo

# 3. Missing namespace.
sed -i "s/$NB/wemu-missing-$$/" "$TMP/profile.toml"
if "$BIN" --profile "$TMP/profile.toml" >/dev/null 2>"$TMP/err"; then
  echo "FAIL: wan-emu accepted a missing namespace"; FAILED=1
elif grep -q "not found" "$TMP/err"; then
  echo "ok: missing namespace rejected: $(cat "$TMP/err")"
else
  echo "FAIL: unclear message: $(cat "$TMP/err")"; FAILED=1
fi

[ $FAILED = 0 ] && echo "wan_emu_ping: all checks passed"
exit $FAILED
