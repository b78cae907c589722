#!/usr/bin/env bash
# Issue 15's SCTP choice, measured: builds usrsctp_probe.cpp against Debian's libusrsctp-dev
# (apt-get install libusrsctp-dev; not a dependency of Strata's build) and runs it REPEAT
# times (default 5): RSS per idle association, CPU per message on one association and fanned
# out over PAIRS associations, and the same fan-out split over two threads sharing the one
# usrsctp instance a process has. `run.sh dump` prints one association's packets instead
# (tests/data/sctp/usrsctp_session.txt was written so).
#   bench/sctp-choice/run.sh [PAIRS=400] [MESSAGES=200000] [SIZE=100] [REPEAT=5]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${TMPDIR:-/tmp}/strata-usrsctp-probe
if ! pkg-config --exists usrsctp; then
  echo "run.sh: needs libusrsctp-dev (apt-get install libusrsctp-dev)" >&2
  exit 2
fi
g++ -O2 -std=c++20 "$HERE/usrsctp_probe.cpp" $(pkg-config --cflags --libs usrsctp) -o "$OUT"
if [[ ${1:-} == dump ]]; then exec "$OUT" dump; fi
PAIRS=${1:-400} MESSAGES=${2:-200000} SIZE=${3:-100} REPEAT=${4:-5}
for i in $(seq "$REPEAT"); do
  echo "--- run $i"
  "$OUT" "$PAIRS" "$MESSAGES" "$SIZE" 2
done
