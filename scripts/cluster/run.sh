#!/usr/bin/env bash
# `make run` (also `make run-cluster`): the local twin-zone set-up.
#   The stream catalog: the local DynamoDB-API server (dynalite) on
#   127.0.0.1:8000, table zonecast-streams, which every node reads;
#   cam1 and cam2 are created in it through the control API at start,
#   Redis primary + replica + three sentinels (real processes, free ports),
#   zone a: edge a1, a2; zone b: edge b1, b2 (mutual-TLS QUIC relay),
#   a synthetic broadcaster (ffmpeg test pattern with a burnt-in clock) over
#   SRT to a1, reconnecting to the next ready node if its node goes away,
#   cam1 recorded to a local S3-API server (versitygw, bucket "recordings").
# The page of any node shows which node leads each stream, and lists and
# plays finished recordings. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/bin}
RUN=${RUN:-$PWD/.cache/run-cluster}
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
for c in ffmpeg redis-server redis-sentinel openssl curl node; do
  command -v "$c" >/dev/null || { echo "run-cluster: $c missing (make deps)" >&2; exit 1; }
done
DYNALITE=tools/dynalite/node_modules/dynalite/cli.js
[ -f "$DYNALITE" ] || { echo "run-cluster: dynalite missing (make deps)" >&2; exit 1; }
CATALOG=${CATALOG:-127.0.0.1:8000}
TOKEN=local-admin-token
rm -rf "$RUN"; mkdir -p "$RUN"
bash scripts/certs.sh "$RUN/certs" a1 a2 b1 b2 >/dev/null

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "run-cluster: stopped"
}
trap cleanup INT TERM EXIT

# The catalog first: the nodes create its table when it is missing.
node "$DYNALITE" --host "${CATALOG%:*}" --port "${CATALOG##*:}" > "$RUN/dynalite.log" 2>&1 &
pids+=($!)
up=""
for _ in $(seq 100); do (exec 3<>"/dev/tcp/${CATALOG%:*}/${CATALOG##*:}") 2>/dev/null && { up=1; break; }; sleep 0.1; done
[ -n "$up" ] || { echo "run-cluster: the catalog (dynalite) did not come up on $CATALOG; see $RUN/dynalite.log" >&2; exit 1; }

# The recording bucket: versitygw over a local directory, the bucket made
# through the S3 API (curl signs the request), credentials for the nodes
# in the usual AWS variables.
export AWS_ACCESS_KEY_ID=zonecast-local AWS_SECRET_ACCESS_KEY=zonecast-local-secret
S3=127.0.0.1:7070
mkdir -p "$RUN/s3"
"$BIN/versitygw" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" --region local --port "$S3" --quiet posix "$RUN/s3" > "$RUN/versitygw.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://$S3/" && break; sleep 0.1; done
curl -fs -o /dev/null -X PUT -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 "aws:amz:local:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "http://$S3/recordings" \
  || { echo "run-cluster: could not create the recording bucket; see $RUN/versitygw.log" >&2; exit 1; }

"$BIN/redistwin" -dir "$RUN/redis" -addrs "$RUN/sentinels" &
pids+=($!)
for _ in $(seq 300); do [ -s "$RUN/sentinels" ] && break; sleep 0.1; done
[ -s "$RUN/sentinels" ] || { echo "run-cluster: Redis did not come up" >&2; exit 1; }
sentinels=$(sed 's/.*/"&"/' "$RUN/sentinels" | paste -sd, -)

i=0
for id in a1 a2 b1 b2; do
  cat > "$RUN/$id.yaml" <<YAML
node: {id: $id, region: local, zone: ${id:0:1}}
srt: {listen: "127.0.0.1:$((9000 + i))"}
http: {listen: "127.0.0.1:$((8080 + i))"}
admin: {token: $TOKEN}   # the control API stays on http.listen (no admin.listen)
catalog:
  dynamodb: {table: zonecast-streams, region: local, endpoint: "http://$CATALOG", create_table: true}
recording: {bucket: recordings, region: local, endpoint: "http://$S3", spool_dir: $RUN/spool-$id, idle_close: 20s}
cluster:
  quic: {listen: "127.0.0.1:$((9100 + i))"}
  tls: {ca: $RUN/certs/ca.pem, cert: $RUN/certs/$id.pem, key: $RUN/certs/$id-key.pem}
  redis: {sentinels: [$sentinels], master: zonecast}
  viewers: {proxy: true}   # as provisioned: any node's page plays every stream
YAML
  "$BIN/edge" -config "$RUN/$id.yaml" 2> "$RUN/$id.log" &
  pids+=($!)
  i=$((i + 1))
done
for port in 8080 8081 8082 8083; do
  up=""
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" && { up=1; break; }; sleep 0.1; done
  [ -n "$up" ] || { echo "run-cluster: node on :$port did not come up; see $RUN/*.log" >&2; exit 1; }
done

# The demo's streams, created through a1's control API like any other; the
# broadcaster below publishes cam1 with this passphrase.
for s in 'cam1 correct-horse-battery true' 'cam2 second-camera-pass false'; do
  set -- $s
  curl -fs -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" \
    -d "{\"name\": \"$1\", \"passphrase\": \"$2\", \"record\": $3}" http://127.0.0.1:8080/api/v1/streams \
    || { echo "run-cluster: creating $1 in the catalog failed" >&2; exit 1; }
done

# The CDN stand-in (Varnish, rendered from the declared distribution) in
# front of a1 and b1 as its origin group's primary and secondary.
cdn=""
if [ -x "$BIN/cdn-standin" ] && { command -v varnishd >/dev/null || [ -x /usr/sbin/varnishd ]; }; then
  "$BIN/cdn-standin" -primary 127.0.0.1:8080 -secondary 127.0.0.1:8082 -listen 127.0.0.1:8090 -dir "$RUN/cdn" > "$RUN/cdn.log" 2>&1 &
  pids+=($!)
  cdn="  Through the CDN stand-in (docs/cdn.md): http://127.0.0.1:8090/?stream=cam1"
fi

# The broadcaster: like an encoder behind the accelerator, it reconnects to
# the first ready node when its connection breaks.
broadcast() {
  local clock="drawtext=fontfile=$FONT:fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6:x=20:y=20:text='%{localtime\\:%H\\\\\\:%M\\\\\\:%S}  frame %{frame_num}'"
  [ -f "$FONT" ] || clock="null"
  while true; do
    for n in 0 1 2 3; do
      curl -fs -o /dev/null --max-time 0.3 "http://127.0.0.1:$((8080 + n))/readyz" || continue
      ffmpeg -hide_banner -loglevel warning -nostdin -re \
        -f lavfi -i "testsrc2=size=640x360:rate=25,$clock" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
        -c:v libx264 -preset veryfast -tune zerolatency -g 25 -keyint_min 25 -sc_threshold 0 -b:v 1000k -pix_fmt yuv420p \
        -c:a aac -b:a 96k -f mpegts \
        "srt://127.0.0.1:$((9000 + n))?streamid=#!::r=cam1,m=publish&passphrase=correct-horse-battery&pbkeylen=16&latency=120000" || true
      break
    done
    sleep 0.2
  done
}
broadcast &
pids+=($!)

cat <<MSG

  zonecast twin-zone set-up is running (files in $RUN).
  Nodes:  a1 http://127.0.0.1:8080  a2 :8081   (zone a)
          b1 http://127.0.0.1:8082  b2 :8083   (zone b)
  Player page (shows leader/standby):  http://127.0.0.1:8080/?stream=cam1
$cdn
  LL-HLS from any node (a node with no role fetches from the leader): http://127.0.0.1:8083/live/cam1/index.m3u8
  Streams API:                         curl -s http://127.0.0.1:8082/api/v1/streams
  Stream catalog (dynalite):           http://$CATALOG, table zonecast-streams
  Create a stream (prints its SRT publish URL and its playback URL):
    curl -s -X POST -H 'Authorization: Bearer $TOKEN' -d '{"name": "match-1"}' http://127.0.0.1:8080/api/v1/streams
  Recordings of cam1 (closed 20 s after the broadcaster stops; the page plays them):
                                       curl -s http://127.0.0.1:8080/api/v1/streams/cam1/recordings
  Drain a node:  curl -X POST -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:8080/api/v1/drain
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}" || true
