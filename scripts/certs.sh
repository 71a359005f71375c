#!/usr/bin/env bash
# Makes the PEM files of the cluster relay's mutual TLS with openssl:
#   scripts/certs.sh DIR [NODE_ID ...]
# DIR/ca.pem + DIR/ca-key.pem (the cluster CA, made once and reused), and per
# node DIR/<id>.pem + DIR/<id>-key.pem; with no NODE_ID, DIR/node.pem and
# DIR/node-key.pem. Every node certificate carries the SAN DNS:zonecast-node
# (the name nodes verify each other by) and DNS:<id>, and is valid for both
# server and client authentication. Idempotent: existing files are kept.
set -euo pipefail
command -v openssl >/dev/null || { echo "certs.sh: openssl not found (apt-get install openssl)" >&2; exit 1; }
dir=${1:?usage: scripts/certs.sh DIR [NODE_ID ...]}; shift
mkdir -p "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=zonecast relay CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
fi
make_node() { # make_node ID FILE_STEM
  local id=$1 stem=$2
  [ -f "$dir/$stem.pem" ] && return 0
  openssl req -new "${ec[@]}" -subj "/CN=$id" -keyout "$dir/$stem-key.pem" -out "$dir/$stem.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$stem.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial -days 825 \
    -out "$dir/$stem.pem" -extfile <(printf '%s\n' "subjectAltName=DNS:zonecast-node,DNS:$id" \
      "extendedKeyUsage=serverAuth,clientAuth" "keyUsage=critical,digitalSignature" "basicConstraints=CA:FALSE") 2>/dev/null
  rm -f "$dir/$stem.csr"
  chmod 600 "$dir/$stem-key.pem"
}
if [ $# -eq 0 ]; then make_node node node; fi
for id in "$@"; do make_node "$id" "$id"; done
chmod 600 "$dir/ca-key.pem"
echo "certs: $(cd "$dir" && ls *.pem | tr '\n' ' ')"
