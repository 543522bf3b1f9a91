#!/usr/bin/env bash
# Install snakemake's SLURM executor plugin into its own folder (default .venv/slurm-plugin), NOT into
# .venv itself: the plugin runs `scontrol` when snakemake imports it, and on a machine that has the
# SLURM tools but no reachable controller every plain `snakemake` call would stall for seconds. Put the
# folder on PYTHONPATH only for SLURM runs:
#   PYTHONPATH=.venv/slurm-plugin snakemake --workflow-profile profiles/slurm
# --no-deps because .venv already holds snakemake's interface packages, numpy, PyYAML and throttler;
# pandas is the one dependency it lacks. Idempotent: does nothing when the pinned versions are there.
# Usage: tools/slurm/install-plugin.sh [TARGET_DIR]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${1:-$repo/.venv/slurm-plugin}"
python="${PYTHON:-$repo/.venv/bin/python}"
pins=(
  snakemake-executor-plugin-slurm==2.8.0
  snakemake-executor-plugin-slurm-jobstep==0.6.1
  pandas==3.1.1
)

have_all=1
for pin in "${pins[@]}"; do
  name="${pin%%==*}"
  version="${pin##*==}"
  [[ -d "$target/${name//-/_}-$version.dist-info" ]] || have_all=0
done
if [[ "$have_all" == 1 ]]; then
  exit 0
fi
echo "slurm/install-plugin: installing ${pins[*]} into $target" >&2
"$python" -m pip install -q --upgrade --no-deps --target "$target" "${pins[@]}" >&2
