#!/usr/bin/env bash
# Prints the CHAOS lines of a chaos run (CHAOS_OUT) as one table per timing
# profile: scripts/cluster/chaos-table.sh FILE
set -euo pipefail
f=${1:?usage: scripts/cluster/chaos-table.sh FILE}
[ -s "$f" ] || { echo "chaos-table: no CHAOS lines in $f"; exit 0; }
for profile in local shipped; do
  lines=$(grep -E "CHAOS (timings=$profile )?fault=" "$f" | grep -v ' routing=' | { if [ "$profile" = local ]; then grep -v 'timings=shipped'; else grep 'timings=shipped'; fi; } || true)
  [ -n "$lines" ] || continue
  echo
  echo "timings: $profile"
  printf '%-34s %8s %14s %12s %14s\n' fault stall_s media_lost_s pdt_gap_s reconnect_s
  sed -E 's/.*fault=([^ ]+) stall_s=([^ ]+) media_lost_s=([^ ]+) pdt_gap_s=([^ ]+) longest_segment_s=[^ ]+ broadcaster_reconnect_s=([^ ]+).*/\1 \2 \3 \4 \5/' <<<"$lines" \
    | while read -r fault s l g r; do printf '%-34s %8s %14s %12s %14s\n' "$fault" "$s" "$l" "$g" "$r"; done
done
# The production-routing rows (through the load balancer stand-in), next
# to the simulator's worst case for the same timings and routing.
routed=$(grep -E 'CHAOS timings=[^ ]+ routing=' "$f" || true)
if [ -n "$routed" ]; then
  echo
  echo "production routing (load balancer stand-in), shipped timings; predicted = simulator's worst case"
  printf '%-28s %-8s %8s %10s %14s %12s %10s %12s\n' fault fencing stall_s predicted media_lost_s predicted noticed_s reconnect_s
  sed -E 's/.*routing=[^ ]+ fencing=([^ ]+) fault=([^ ]+) stall_s=([^ ]+) media_lost_s=([^ ]+) .* broadcaster_reconnect_s=([^ ]+) caller_noticed_s=([^ ]+) predicted_stall_s=([^ ]+) predicted_media_lost_s=([^ ]+) .*/\2 \1 \3 \7 \4 \8 \6 \5/' <<<"$routed" \
    | while read -r fault fen s ps l pl n r; do printf '%-28s %-8s %8s %10s %14s %12s %10s %12s\n' "$fault" "$fen" "$s" "$ps" "$l" "$pl" "$n" "$r"; done
fi
