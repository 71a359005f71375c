#!/usr/bin/env bash
# `make run-edge`: a local edge with the contract configuration and a synthetic
# broadcaster (ffmpeg test pattern with a burnt-in wall clock, 1 s GOP, sine
# audio) publishing cam1 over SRT with its passphrase. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/bin}
CONFIG=${CONFIG:-configs/edge.yaml}
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
[ -f "$FONT" ] || { echo "run: $FONT missing (make deps)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "run: ffmpeg missing (make deps)" >&2; exit 1; }

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "run: stopped"
}
trap cleanup INT TERM EXIT

"$BIN/edge" -config "$CONFIG" &
pids+=($!)
up=""
for _ in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:8080/readyz && { up=1; break; }; sleep 0.1; done
[ -n "$up" ] || { echo "run: edge did not come up (is 127.0.0.1:8080 or :9000 taken?)" >&2; exit 1; }

# Wall clock (local time) burnt in, plus the frame number: compare it with
# the clock beside the player to see the glass-to-glass latency.
clock="drawtext=fontfile=$FONT:fontsize=64:fontcolor=white:box=1:boxcolor=black@0.6:x=40:y=40:text='%{localtime\\:%H\\\\\\:%M\\\\\\:%S}  frame %{frame_num}'"
ffmpeg -hide_banner -loglevel warning -nostdin -re \
  -f lavfi -i "testsrc2=size=1280x720:rate=30,$clock" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000" \
  -c:v libx264 -preset veryfast -tune zerolatency -g 30 -keyint_min 30 -sc_threshold 0 -b:v 2500k -maxrate 2500k -bufsize 2500k -pix_fmt yuv420p \
  -c:a aac -b:a 128k \
  -f mpegts 'srt://127.0.0.1:9000?streamid=#!::r=cam1,m=publish&passphrase=correct-horse-battery&pbkeylen=16&latency=120000' &
pids+=($!)

cat <<MSG

  zonecast edge is running (config $CONFIG).
  Player page:   http://127.0.0.1:8080/?stream=cam1
  LL-HLS:        http://127.0.0.1:8080/live/cam1/index.m3u8
  Classic HLS:   http://127.0.0.1:8080/live/cam1/classic.m3u8
  Streams API:   http://127.0.0.1:8080/api/v1/streams
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}" || true
