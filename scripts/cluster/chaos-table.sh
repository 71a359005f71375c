#!/usr/bin/env bash
# Prints the CHAOS lines of a chaos run (CHAOS_OUT) as one table per timing
# profile: scripts/cluster/chaos-table.sh FILE
set -euo pipefail
f=${1:?usage: scripts/cluster/chaos-table.sh FILE}
[ -s "$f" ] || { echo "chaos-table: no CHAOS lines in $f"; exit 0; }
for profile in local shipped; do
  lines=$(grep -E "CHAOS (timings=$profile )?fault=" "$f" | { if [ "$profile" = local ]; then grep -v 'timings=shipped'; else grep 'timings=shipped'; fi; } || true)
  [ -n "$lines" ] || continue
  echo
  echo "timings: $profile"
  printf '%-34s %8s %14s %12s %14s\n' fault stall_s media_lost_s pdt_gap_s reconnect_s
  sed -E 's/.*fault=([^ ]+) stall_s=([^ ]+) media_lost_s=([^ ]+) pdt_gap_s=([^ ]+) longest_segment_s=[^ ]+ broadcaster_reconnect_s=([^ ]+).*/\1 \2 \3 \4 \5/' <<<"$lines" \
    | while read -r fault s l g r; do printf '%-34s %8s %14s %12s %14s\n' "$fault" "$s" "$l" "$g" "$r"; done
done
