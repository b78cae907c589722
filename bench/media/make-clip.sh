#!/bin/sh
# Generates the pre-encoded clip `strata bench --publish` replays (Debian's ffmpeg with
# libvpx and libopus): three VP8 simulcast layers from one synthetic source plus Opus.
#   make-clip.sh OUTDIR [TOP_BITRATE_BPS] [SECONDS]
# Writes OUTDIR/q.ivf (320x180), h.ivf (640x360), f.ivf (1280x720, TOP_BITRATE_BPS) and
# OUTDIR/audio.ogg (48 kHz stereo Opus, 20 ms packets). All layers share 30 fps and a
# keyframe every 2 s at the same frames, so the publisher can jump to the next keyframe
# on every layer at once when asked for one (PLI).
set -eu
out=${1:?usage: make-clip.sh OUTDIR [TOP_BITRATE_BPS] [SECONDS]}
top=${2:-2500000}
secs=${3:-12}
fps=30
gop=$((fps * 2))
half=$((top / 4))
quarter=$((top / 12))
mkdir -p "$out"
tmp="$out/.tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
vp8() {  # bitrate -> libvpx options for a steady CBR-ish stream with fixed keyframes
  echo "-c:v libvpx -deadline realtime -cpu-used 8 -b:v $1 -minrate $1 -maxrate $1 -bufsize $(($1 / 2)) -g $gop -keyint_min $gop -auto-alt-ref 0 -lag-in-frames 0 -error-resilient 1 -threads 2"
}
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=1280x720:rate=$fps:duration=$secs" \
  -filter_complex "[0:v]split=3[a][b][c];[b]scale=640:360[h];[c]scale=320:180[q]" \
  -map "[a]" $(vp8 "$top") -f ivf "$tmp/f.ivf" \
  -map "[h]" $(vp8 "$half") -f ivf "$tmp/h.ivf" \
  -map "[q]" $(vp8 "$quarter") -f ivf "$tmp/q.ivf"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$secs" -ac 2 \
  -c:a libopus -b:a 64000 -frame_duration 20 -application audio -f ogg "$tmp/audio.ogg"
mv "$tmp/f.ivf" "$tmp/h.ivf" "$tmp/q.ivf" "$tmp/audio.ogg" "$out/"
