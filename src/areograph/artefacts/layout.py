"""Where each step's folder lies in the results tree (``results_dir``, default ``results/``).

The rules (rules/common.smk) place their outputs with these, and ship.py finds a trained model's
evaluation, benchmark and log with the same functions, so the two cannot disagree about a path.
What is inside each folder is the business of its own contract (model_dir.py, evaluation.py,
shipped.py, rovers.py).
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


def ship_dir(results: Path | str, name: str) -> Path:
    """Where a shipped-weights folder is built (artefacts.shipped): ``results/ship/<name>/``."""
    return Path(results) / "ship" / name


def rovers_dir(results: Path | str) -> Path:
    """The rover track's folder (artefacts.rovers): ``results/rovers/``."""
    return Path(results) / "rovers"


def benchmark_file(results: Path | str, rule: str, name: str | None = None) -> Path:
    """A job's Snakemake benchmark: ``results/benchmarks/<rule>/<name>.tsv``, or ``<rule>.tsv``."""
    return _per_job(Path(results) / "benchmarks", rule, name, ".tsv")


def log_file(results: Path | str, rule: str, name: str | None = None) -> Path:
    """A job's log: ``results/logs/<rule>/<name>.log``, or ``<rule>.log`` for a one-job rule."""
    return _per_job(Path(results) / "logs", rule, name, ".log")


def _per_job(root: Path, rule: str, name: str | None, suffix: str) -> Path:
    return root / rule / f"{name}{suffix}" if name is not None else root / f"{rule}{suffix}"


def raw_raster(results: Path | str, region: str, layer: str) -> Path:
    """A fetched region raster, as its source delivered it: ``results/raw/<region>/<layer>.tif``."""
    return Path(results) / "raw" / region / f"{layer}.tif"


def raw_collection(results: Path | str, name: str) -> Path:
    """A fetched rover collection (artefacts.collection): ``results/raw/rovers/<name>/``."""
    return Path(results) / "raw" / "rovers" / name


def tiles_dir(results: Path | str, region: str, layer: str) -> Path:
    """A tile set (artefacts.tileset): ``results/tiles/<region>/<layer>/``."""
    return Path(results) / "tiles" / region / layer


def datasets_dir(results: Path | str) -> Path:
    """Where the packed sets lie (artefacts.packed): ``results/datasets/``."""
    return Path(results) / "datasets"


def mosaic_dir(results: Path | str, region: str) -> Path:
    """A rendered Mars region (artefacts.mosaic): ``results/mars/<region>/``."""
    return Path(results) / "mars" / region


def viewer_dir(results: Path | str, region: str) -> Path:
    """A region's map viewer (artefacts.viewer): ``results/viewer/<region>/``."""
    return Path(results) / "viewer" / region


def kept_dir(results: Path | str) -> Path:
    """The quality-filtered colour frames (a collection): ``results/rovers/kept/``."""
    return rovers_dir(results) / "kept"


def frames_dir(results: Path | str) -> Path:
    """The colourised Opportunity frames (artefacts.frame_sequence): ``results/rovers/frames/``."""
    return rovers_dir(results) / "frames"
