"""Make Snakemake trust what ``dvc pull`` brought, and distrust exactly what DVC says is stale.

After ``dvc pull`` every output carries the time of its download, in no particular order, and a
fresh clone has no ``.snakemake/metadata`` (the record of each job's params, code and inputs that
Snakemake's params/code/input rerun triggers compare against). Left alone, Snakemake reruns jobs
whose inputs happen to be newer than their outputs, and, with no metadata, would never notice a
later config change at all. :func:`rebaseline` fixes both:

1. ``dvc status`` compares the workspace with ``dvc.lock``. A stage is *current* when its code,
   params and upstream outputs hash as they did when its outputs were built (so the config keys
   its rules read are the ones in config.yaml now); otherwise it is *stale*.
2. ``snakemake --touch --forceall`` walks the DAG in order, touching every output after its inputs
   and recording a metadata record per output with today's params, code and inputs. For current
   stages that record is true, which makes later edits (a config key, an adapter script) rerun
   exactly the jobs they affect, as in a workspace that built everything itself.
3. The outputs of stale stages are then set back to an old modification time, older than any
   input and any script: Snakemake reruns those jobs (updated input, or code changed for jobs
   without inputs) and everything downstream, and records fresh metadata when it does.

Run it after ``dvc pull`` or ``dvc checkout`` (``make pull`` does both).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# 1971-01-01: older than any input or script a real checkout has, and not 0 (some tools treat 0 as unset).
STALE_MTIME = 365 * 86400.0
# DVC reports outputs that were not pulled as "deleted": Snakemake rebuilds missing files by itself.
NOT_PULLED = "deleted"


class RebaselineError(RuntimeError):
    """DVC or Snakemake failed, or there is nothing shared to re-baseline against."""


@dataclass
class RebaselineReport:
    """What :func:`rebaseline` did: stale stages with DVC's reasons, and how many paths it backdated."""

    stale: dict[str, list[str]] = field(default_factory=dict)
    backdated: int = 0


def _run(cmd: Sequence[str], root: Path) -> str:
    proc = subprocess.run(list(cmd), cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]  # the end says why (not Snakemake's whole usage text)
        raise RebaselineError(f"{' '.join(cmd)} failed in {root} ({proc.returncode}):\n{tail}")
    return proc.stdout


def dvc_status(root: Path) -> dict[str, Any]:
    """``dvc status --json`` of the workspace against dvc.lock (no remote is contacted)."""
    out = _run([sys.executable, "-m", "dvc", "status", "--json"], root)
    return json.loads(out or "{}")


def _describe(change: Mapping[str, Any]) -> list[str]:
    """Flatten one ``dvc status`` entry into "kind path: state" lines, leaving out missing outputs."""
    if not isinstance(change, Mapping):
        return [str(change)]
    lines: list[str] = []
    for kind, items in change.items():
        if not isinstance(items, Mapping):
            lines.append(f"{kind}: {items}")
            continue
        for path, state in items.items():
            if kind == "changed outs" and state == NOT_PULLED:
                continue
            if isinstance(state, Mapping):  # params: {file: {key: state}}
                lines += [f"{kind} {path}: {key} {s}" for key, s in state.items()]
            else:
                lines.append(f"{kind} {path}: {state}")
    return lines


def stale_stages(status: Mapping[str, Any], stages: Iterable[str]) -> dict[str, list[str]]:
    """The stages whose outputs were not built from the code, params and inputs now in the workspace.

    A stage is stale when ``dvc status`` reports a changed dependency or parameter, an output that
    differs from dvc.lock, or no lock entry. Outputs that are merely absent (not pulled) do not make
    a stage stale: Snakemake rebuilds missing outputs anyway.
    """
    stale: dict[str, list[str]] = {}
    for name in stages:
        reasons = [line for change in status.get(name, []) for line in _describe(change)]
        if reasons:
            stale[name] = reasons
    return stale


def _paths(entries: Iterable[Any]) -> list[str]:
    """Paths of a dvc.yaml ``outs``/``metrics``/``plots`` list (plain strings or {path: options})."""
    return [e if isinstance(e, str) else next(iter(e)) for e in entries]


def stage_outputs(dvc_yaml: Path) -> dict[str, list[str]]:
    """Each dvc.yaml stage's output paths (outs, metrics and plots), in file order."""
    stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages") or {}
    return {
        name: _paths(spec.get("outs", []) + spec.get("metrics", []) + spec.get("plots", []))
        for name, spec in stages.items()
    }


# What DVC shares is the default run and the demo training (``snakemake train``): both are re-baselined.
SHARED_TARGETS = ("all", "train")


def touch_in_dag_order(root: Path, snakemake_args: Sequence[str] = ()) -> None:
    """``snakemake --touch --forceall``: every existing output touched after its inputs, metadata written.

    Snakemake runs the touch "jobs" in DAG order and records a metadata record for each, exactly as
    after a real run (outputs that do not exist are left missing and are rebuilt later).
    ``snakemake_args`` must carry the software-deployment flags later runs use (``--sdm conda``):
    the records include a hash of the software stack, and a different one reruns every job.
    """
    cmd = [sys.executable, "-m", "snakemake", "--touch", "--forceall", "--cores", "all", *snakemake_args,
           *SHARED_TARGETS]  # fmt: skip
    _run(cmd, root)


def backdate(paths: Iterable[Path], mtime: float = STALE_MTIME) -> int:
    """Set every file and directory under ``paths`` (the paths themselves included) to ``mtime``.

    Directory outputs count as old through their ``.snakemake_timestamp`` or, lacking one, the
    directory itself; both are covered. Returns how many paths were changed; missing paths are skipped.
    """
    count = 0
    for top in paths:
        if not top.exists():
            continue
        walk = [top] + (sorted(top.rglob("*")) if top.is_dir() else [])
        for p in walk:
            os.utime(p, (mtime, mtime), follow_symlinks=False)
            count += 1
    return count


def rebaseline(root: Path, snakemake_args: Sequence[str] = ()) -> RebaselineReport:
    """Re-baseline Snakemake in the DVC repository ``root`` after a pull (see the module docstring)."""
    root = Path(root)
    if not (root / "dvc.yaml").is_file():
        raise RebaselineError(f"{root / 'dvc.yaml'} is missing: run this from the repository root")
    if not (root / "dvc.lock").is_file():
        raise RebaselineError(
            f"{root / 'dvc.lock'} is missing: nothing has been shared yet "
            "(run 'dvc repro' and 'dvc push' first)"
        )
    outputs = stage_outputs(root / "dvc.yaml")
    stale = stale_stages(dvc_status(root), outputs)
    touch_in_dag_order(root, snakemake_args)
    backdated = backdate(root / p for name in stale for p in outputs[name])
    return RebaselineReport(stale=stale, backdated=backdated)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m areograph.rebaseline [--root DIR] [-- SNAKEMAKE_ARGS]`` (``make pull``)."""
    parser = argparse.ArgumentParser(
        prog="python -m areograph.rebaseline",
        description="After 'dvc pull': make Snakemake trust the pulled outputs that match dvc.lock.",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="DVC repository (default: here)")
    parser.add_argument(
        "snakemake_args",
        nargs="*",
        help="after --: the deployment flags you run snakemake with (--sdm conda)",
    )
    args = parser.parse_args(argv)
    try:
        result = rebaseline(args.root, args.snakemake_args)
    except RebaselineError as exc:
        print(f"rebaseline: {exc}", file=sys.stderr)
        return 1
    if not result.stale:
        print("rebaseline: every stage matches dvc.lock; Snakemake now trusts the pulled outputs")
    for name, reasons in result.stale.items():
        print(f"rebaseline: stage {name!r} does not match dvc.lock; Snakemake will rebuild it:")
        for line in reasons:
            print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
