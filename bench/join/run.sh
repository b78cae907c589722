#!/bin/bash
# The join measurement (join_first_frame.py) against a fresh `strata dev`, with the keyframe
# cache on (default) and off (--keyframe-cache-ms 0), REPEAT times each, on loopback.
# Usage: bench/join/run.sh [STRATA_BIN] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/release/src/app/strata}
REPEAT=${2:-3}
PORT=18480
for mode in on off; do
  for i in $(seq "$REPEAT"); do
    extra=()
    [[ $mode == off ]] && extra=(--keyframe-cache-ms 0)
    "$BIN" dev --http 127.0.0.1:$PORT --public-ip 127.0.0.1 --udp-port 0 --workers 2 --log-level warn "${extra[@]}" &
    pid=$!
    for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
    echo -n "cache $mode: "
    /usr/bin/python3 bench/join/join_first_frame.py http://127.0.0.1:$PORT || true
    kill $pid; wait $pid 2>/dev/null || true
  done
done
