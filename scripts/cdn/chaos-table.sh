#!/usr/bin/env bash
# Prints the CHAOS lines of a chaos-through-the-CDN run (TestCDNFaults,
# CHAOS_OUT) as one table: per fault, the viewer's longest stall and media
# lost straight at the nodes and through the CDN stand-in (the same run,
# the same moment), hls.js's longest freeze through the stand-in, media the
# stand-in did not serve, and the broadcaster's reconnection.
# scripts/cdn/chaos-table.sh FILE
set -euo pipefail
f=${1:?usage: scripts/cdn/chaos-table.sh FILE}
[ -s "$f" ] || { echo "chaos-table: no CHAOS lines in $f"; exit 0; }
echo
echo "timings: shipped, viewers straight at the nodes (direct) and through the CDN stand-in (cdn)"
awk '/CHAOS .*via=cdn/ {
  delete v
  for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) v[kv[1]] = kv[2]
  if (!header++) printf "%-28s %14s %14s %11s %11s %15s %12s %12s\n", "fault", "direct_stall_s", "direct_lost_s", "cdn_stall_s", "cdn_lost_s", "hlsjs_freeze_s", "unfetchable", "reconnect_s"
  printf "%-28s %14s %14s %11s %11s %15s %12s %12s\n", v["fault"], v["direct_stall_s"], v["direct_media_lost_s"], v["stall_s"], v["media_lost_s"], v["player_freeze_s"], v["unfetchable"], v["broadcaster_reconnect_s"]
}' "$f"
