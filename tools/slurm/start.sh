#!/usr/bin/env bash
# Start a private one-node SLURM cluster on 127.0.0.1 (munged, slurmctld, slurmd, one fake GPU), so the
# tests and anyone trying profiles/slurm can submit real jobs with `sbatch` without touching the
# machine's own /etc/slurm or /etc/munge.
#
# Usage:   tools/slurm/start.sh [--install] [STATE_DIR]
#          eval "$(tools/slurm/start.sh /tmp/slurm)"   # exports SLURM_CONF for sbatch/sinfo/squeue
# Stop:    tools/slurm/stop.sh STATE_DIR
#
# STATE_DIR (default $AREOGRAPH_SLURM_DIR or /tmp/areograph-slurm) holds the config, the munge key and
# socket, the pid files, the spool and the logs. Running it again on a live cluster only prints the
# exports (idempotent); a half-dead cluster is stopped and started afresh.
#
# Missing packages (slurmctld slurmd slurm-client munge) are installed with apt-get when running as root
# and either --install is given, AREOGRAPH_SLURM_INSTALL=1 or CI=true; otherwise the script exits 3
# with a line starting "SKIP:" that the tests turn into a skip reason. It needs root (slurmd launches
# the jobs and mknod makes the fake GPU device): exit 3 as well when not root.
#
# Knobs (environment): AREOGRAPH_SLURM_CPUS (8) and AREOGRAPH_SLURM_MEM_MB (64000) are what the node
# *advertises* (SlurmdParameters=config_overrides), so the profile's real GPU requests schedule on a
# small CI machine; the test jobs themselves are tiny. AREOGRAPH_SLURM_CTLD_PORT and
# AREOGRAPH_SLURMD_PORT pick the ports (default: the first free ones from a random start in 6817-9816).
# Stdout carries only the `export ...` lines; progress and errors go to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
install=${AREOGRAPH_SLURM_INSTALL:-0}
if [[ "${1:-}" == "--install" ]]; then install=1; shift; fi
[[ "${CI:-}" == "true" ]] && install=1
state="${1:-${AREOGRAPH_SLURM_DIR:-/tmp/areograph-slurm}}"
cpus=${AREOGRAPH_SLURM_CPUS:-8}
mem_mb=${AREOGRAPH_SLURM_MEM_MB:-64000}

log() { echo "slurm/start: $*" >&2; }
skip() { echo "SKIP: $*" >&2; exit 3; }

needed=(munged slurmctld slurmd sbatch srun sinfo squeue scontrol scancel mknod)
missing=()
for cmd in "${needed[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd"); done
if ((${#missing[@]})); then
  if [[ "$install" != 1 ]]; then
    skip "SLURM tools missing (${missing[*]}); run 'sudo tools/slurm/start.sh --install' or set CI=true"
  fi
  [[ $(id -u) == 0 ]] || skip "SLURM tools missing (${missing[*]}) and installing them needs root"
  log "installing slurmctld slurmd slurm-client munge with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || skip "apt-get update failed"
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >&2 \
    || skip "apt-get install slurmctld slurmd slurm-client munge failed"
fi
[[ $(id -u) == 0 ]] \
  || skip "a local SLURM cluster needs root (slurmd launches jobs, mknod makes the fake GPU)"

mkdir -p "$state"
state="$(cd "$state" && pwd)"
conf="$state/etc/slurm.conf"
# The exports make clients find this cluster: SLURM_CONF for sbatch/squeue, and PATH shims for the
# `srun` that snakemake's slurm-jobstep executor runs inside each job after stripping every SLURM_*
# variable except the job id (a real cluster has /etc/slurm/slurm.conf instead).
exports() {
  echo "export SLURM_CONF=$conf"
  echo "export PATH=$state/bin:\$PATH"
}

alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Empty while slurmctld is not answering yet.
node_state() { SLURM_CONF="$conf" sinfo -h -N -o '%t' 2>/dev/null | head -n1 || true; }

if alive "$state/munged.pid" && alive "$state/slurmctld.pid" && alive "$state/slurmd.pid" \
  && [[ "$(node_state)" =~ ^(idle|mix|alloc)$ ]]; then
  log "already running in $state"
  exports
  exit 0
fi
# Anything half-up from an earlier run is stopped first, so the start below is always from scratch.
"$here/stop.sh" "$state" >&2 || true

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}
# A random start (below the ephemeral range) keeps parallel test clusters from racing for one port.
ctld_port=${AREOGRAPH_SLURM_CTLD_PORT:-$(free_port $((6817 + RANDOM % 3000)))}
slurmd_port=${AREOGRAPH_SLURMD_PORT:-$(free_port $((ctld_port + 1)))}

host="$(uname -n)"
host="${host%%.*}"
mkdir -p "$state"/{etc,munge,ctld,spool,log,dev,bin}
real_path="$(tr ':' '\n' <<<"$PATH" | grep -vxF "$state/bin" | paste -sd: -)"
for cmd in srun sbatch squeue sinfo scontrol scancel; do
  real="$(PATH="$real_path" type -P "$cmd")"
  printf '#!/bin/sh\nSLURM_CONF=%s exec %s "$@"\n' "$conf" "$real" >"$state/bin/$cmd"
  chmod 755 "$state/bin/$cmd"
done
chmod 755 "$state/munge"  # clients of any user reach the socket; the key stays 0600

# A character device for the GPU gres: slurm only records it (no cgroup device constraint here).
# 195 is NVIDIA's major number; nothing ever opens the node.
if [[ ! -c "$state/dev/nvidia0" ]]; then
  rm -f "$state/dev/nvidia0"
  mknod "$state/dev/nvidia0" c 195 0 || skip "mknod failed (no CAP_MKNOD?): cannot fake a GPU device"
fi

if [[ ! -s "$state/munge/munge.key" ]]; then
  (umask 077 && dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none)
fi

cat >"$conf" <<EOF
# Written by tools/slurm/start.sh: a private one-node cluster on 127.0.0.1 for tests.
ClusterName=areograph
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool/%n
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
# Finished jobs stay visible to squeue/scontrol for 15 minutes: snakemake's slurm executor polls with
# squeue (no accounting, so no sacct) and needs MinJobAge >= 3 x its first status-check delay, and the
# workflow test reads every job's record with scontrol after a run of several minutes.
MinJobAge=900
KillWait=5
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$mem_mb Gres=gpu:1 State=UNKNOWN
# Two partitions on the one node, like a cluster's CPU and GPU queues, so partition choice can be tried.
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
cat >"$state/etc/gres.conf" <<EOF
AutoDetect=off
NodeName=$host Name=gpu File=$state/dev/nvidia0
EOF

log "starting munged, slurmctld, slurmd in $state (ports $ctld_port/$slurmd_port)"
# From here on, any exit but the successful one shows the logs and stops whatever did start.
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  tail -n 20 "$state"/log/{munged,slurmctld,slurmd}.log >&2 2>/dev/null || true
  "$here/stop.sh" "$state" >&2 || true
}
trap cleanup EXIT
munged --force --socket="$state/munge/munge.socket" --key-file="$state/munge/munge.key" \
  --pid-file="$state/munged.pid" --log-file="$state/log/munged.log" --seed-file="$state/munge/seed"
slurmctld -c -i -f "$conf"
slurmd -c -f "$conf" -N "$host"

for _ in $(seq 1 120); do
  st="$(node_state)"
  if [[ "$st" == idle ]]; then
    trap - EXIT
    log "node $host idle"
    exports
    exit 0
  fi
  sleep 0.5
done
log "node never became idle (state '${st:-none}')"
SLURM_CONF="$conf" sinfo -R >&2 || true
exit 1
