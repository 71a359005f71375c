#!/usr/bin/env bash
# Installs what zonecast's run, tests and benchmarks need, only when missing.
# Idempotent: a second run on a ready machine does nothing and says so briefly.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
want() { # want COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || need_apt+=("$2")
}
want ffmpeg ffmpeg
want ffprobe ffmpeg
want srt-live-transmit srt-tools
want redis-server redis-server
want redis-sentinel redis-sentinel
want chromium chromium
want ip iproute2
want openssl openssl
want curl curl
want node nodejs
want npm npm
# The CDN stand-in (Varnish); Debian installs varnishd in /usr/sbin.
command -v varnishd >/dev/null 2>&1 || [ -x /usr/sbin/varnishd ] || need_apt+=(varnish)
# The synthetic broadcaster of `make run` burns in a clock with this font.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need_apt+=(fonts-dejavu-core)

if [ ${#need_apt[@]} -gt 0 ]; then
  mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | sort -u)
  echo "deps: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Debian starts redis-server (and varnish) as a service on install;
# zonecast's tests and `make run` start their own on other ports, so the
# packaged ones are left alone.

# hls.js for the player page and the browser tests, Shaka Player and
# video.js for the browser test of the slate: from npm, never committed.
if [ ! -f web/node_modules/hls.js/dist/hls.min.js ] || [ ! -f web/node_modules/shaka-player/dist/shaka-player.compiled.js ] ||
  [ ! -f web/node_modules/video.js/dist/video.min.js ]; then
  echo "deps: installing hls.js, shaka-player and video.js from npm"
  (cd web && npm install --no-audit --no-fund --silent)
fi

# dynalite, the local DynamoDB-API server of the stream catalog's tests and
# `make run`: from npm, never committed.
if [ ! -f tools/dynalite/node_modules/dynalite/cli.js ]; then
  echo "deps: installing dynalite from npm"
  (cd tools/dynalite && npm install --no-audit --no-fund --silent)
fi
