"""Where the run files that code reads back lie in the results tree (``results_dir``, default ``results/``).

The rules spell every path as a template in the rule itself (``results("models/terrain_{model}",
MODEL_FILE)``), so a reader sees a rule's files at a glance. The few paths code finds again, ship.py a
trained model's evaluation, benchmark and log and config.py the model files the evaluation suites score,
go through these functions; tests/workflow/test_workflow.py checks against a dry run that they are where
the rules write. What is inside each folder is the business of its own contract (model_dir.py, evaluation.py,
shipped.py).
"""

from __future__ import annotations

from pathlib import Path


def model_dir(results: Path | str, name: str) -> Path:
    """A model directory (artefacts.model_dir): ``results/models/<name>/``."""
    return Path(results) / "models" / name


def terrain_model_name(model: str) -> str:
    """The model directory name of a ``terrain_models`` entry (the colour models keep their own names)."""
    return f"terrain_{model}"


def eval_dir(results: Path | str, track: str) -> Path:
    """An evaluation folder (artefacts.evaluation): ``results/eval/<track>/``."""
    return Path(results) / "eval" / track


def benchmark_file(results: Path | str, rule: str, name: str | None = None) -> Path:
    """A job's Snakemake benchmark: ``results/benchmarks/<rule>/<name>.tsv``, or ``<rule>.tsv``."""
    return _per_job(Path(results) / "benchmarks", rule, name, ".tsv")


def log_file(results: Path | str, rule: str, name: str | None = None) -> Path:
    """A job's log: ``results/logs/<rule>/<name>.log``, or ``<rule>.log`` for a one-job rule."""
    return _per_job(Path(results) / "logs", rule, name, ".log")


def _per_job(root: Path, rule: str, name: str | None, suffix: str) -> Path:
    return root / rule / f"{name}{suffix}" if name is not None else root / f"{rule}{suffix}"
