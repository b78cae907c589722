#!/bin/sh
# bench_smoke: starts `strata dev` on free ports, runs
# `strata bench --publish --viewers 20 --duration 5` against it and fails unless every
# viewer received media (bench exit status 0; 3 = some viewer got nothing).
#   bench_smoke.sh STRATA_BINARY [MEDIA_DIR]
set -u
strata=${1:?usage: bench_smoke.sh STRATA_BINARY [MEDIA_DIR]}
media=${2:-}
ports=$(python3 - <<'PY'
import random, socket
t = socket.socket(); t.bind(("127.0.0.1", 0)); http = t.getsockname()[1]; t.close()
for _ in range(50):
    p = random.randint(20000, 59999)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); u.close(); break
    except OSError:
        u.close()
print(http, p)
PY
)
http_port=${ports% *}
udp_port=${ports#* }
log=$(mktemp)
"$strata" dev --http "127.0.0.1:$http_port" --udp-port "$udp_port" --public-ip 127.0.0.1 --workers 1 >"$log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -f "$log"; }
trap cleanup EXIT
healthy=0
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$http_port/healthz', timeout=1).status == 200 else 1)" 2>/dev/null; then
    healthy=1
    break
  fi
  sleep 0.1
done
if [ "$healthy" != 1 ]; then
  echo "bench_smoke: strata dev did not become healthy"; cat "$log"; exit 1
fi
# A short clip keeps the first run (which generates it with ffmpeg) well inside the test's
# timeout; the bench reuses whatever clip the media directory already holds.
if [ -n "$media" ] && [ ! -f "$media/2500000/audio.ogg" ]; then
  "$(dirname "$0")/../../bench/media/make-clip.sh" "$media/2500000" 2500000 6 || exit 1
fi
set -- bench --url "http://127.0.0.1:$http_port" --stream smoke --publish --viewers 20 --duration 5 --server-pid "$server" --quiet
[ -n "$media" ] && set -- "$@" --media-dir "$media"
"$strata" "$@"
status=$?
if [ "$status" != 0 ]; then
  echo "bench_smoke: strata bench exited with $status; server log:"; tail -50 "$log"
fi
exit "$status"
