#!/usr/bin/env bash
# Stop the private cluster that tools/slurm/start.sh started in STATE_DIR: cancel its jobs, then stop
# slurmd, slurmctld and munged by the PIDs in their pid files (never by name, so a real cluster or
# another test's cluster on the same machine is left alone). Safe to run when nothing is running.
# Usage: tools/slurm/stop.sh [STATE_DIR]
set -euo pipefail

state="${1:-${AREOGRAPH_SLURM_DIR:-/tmp/areograph-slurm}}"
[[ -d "$state" ]] || exit 0
state="$(cd "$state" && pwd)"
conf="$state/etc/slurm.conf"

alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$state/slurmctld.pid" && [[ -f "$conf" ]]; then
  jobs="$(SLURM_CONF="$conf" timeout 10 squeue -h -o '%i' 2>/dev/null || true)"
  if [[ -n "$jobs" ]]; then
    # shellcheck disable=SC2086
    SLURM_CONF="$conf" timeout 10 scancel $jobs 2>/dev/null || true
  fi
fi

# SIGTERM to all three at once (each takes 1-2 s to exit), SIGKILL whatever is left after 10 s.
pids=()
for name in slurmd slurmctld munged; do
  pidfile="$state/$name.pid"
  [[ -s "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  # Only a process started for this state dir (its command line names it): a stale pid file whose
  # number was reused by another process must not get that process killed.
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)"
  if [[ "$cmdline" == *"$state/"* ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
  fi
done
for _ in $(seq 1 100); do
  left=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
  ((${#left[@]})) || break
  sleep 0.1
done
for pid in "${pids[@]}"; do
  if kill -0 "$pid" 2>/dev/null; then
    echo "slurm/stop: $pid ignored SIGTERM, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
rm -f "$state"/{slurmd,slurmctld,munged}.pid
