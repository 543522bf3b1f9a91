#!/usr/bin/env bash
# Stop the SeaweedFS server that tools/s3/start.sh started in STATE_DIR, by the PID in its pid file
# (never by name). SIGTERM lets it flush and shut down (a few seconds); SIGKILL after 20 s.
# Safe to run when nothing is running. Usage: tools/s3/stop.sh [STATE_DIR]
set -euo pipefail

state="${1:-${AREOGRAPH_S3_DIR:-/tmp/areograph-s3}}"
[[ -d "$state" ]] || exit 0
state="$(cd "$state" && pwd)"
pidfile="$state/weed.pid"
[[ -s "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"
# Only the weed started for this state dir (its -dir names it), never a process that reused the number.
cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)"
if [[ "$cmdline" == *"$state/data"* ]] && kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "s3/stop: weed ($pid) ignored SIGTERM, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
fi
rm -f "$pidfile"
