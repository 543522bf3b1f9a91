"""The shipped config shrunk for end-to-end tests: real sample inputs, 64 px tiles, tiny models, few steps.

Shared by the workflow, DVC and SLURM end-to-end tests (see the ``tiny_workflow`` fixture in conftest).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from areograph.config import load_config

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def tiny_config() -> dict:
    """Both tracks, sized so the whole DAG builds in about a minute on 2 cores."""
    cfg = load_config(ROOT / "config.yaml")
    cfg["tiles"]["size_px"] = 64
    cfg["regions"] = [
        {
            "name": "sierra",
            "planet": "earth",
            "lon": -119.5,
            "lat": 37.68,
            "tiles_per_side": [3, 4],
            "split": "blocks",
            "block_tiles": 1,
            "val_every": 4,
        },
        # A whole region held out of training: per-region metrics and the side-by-side picture.
        {"name": "foothills", "planet": "earth", "lon": -120.05, "lat": 37.05, "tiles_per_side": 2,
         "split": "val"},
        {"name": "gale", "planet": "mars", "lon": 137.8, "lat": -5.4, "tiles_per_side": 2, "split": "render"},
    ]
    cfg["models"] = {
        "pix2pix": {"ngf": 4, "ndf": 4, "depth": None, "d_layers": 3, "dropout": 0.5},
        "baseline": {"width": 4},
    }
    cfg["training"].update({"steps": 6, "checkpoint_every": 3, "load_px": 72})
    # Tiny 64 px demo models render the Mars mosaic (the shipped weights are sized for 256 px tiles).
    cfg["render"] = {"window_px": 64, "overlap_px": 32, "model": "pix2pix", "weights": None}
    rovers = cfg["rovers"]
    rovers["colouriser"].update({"ngf": 4, "ndf": 4})
    rovers["baseline"] = {"width": 4}
    rovers["training"].update({"steps": 4, "batch_size": 4, "checkpoint_every": 2})
    rovers["patches"].update({"max_side_px": 256})
    return cfg


def write_tiny_config(workdir: Path) -> Path:
    """The tiny config in ``workdir``, beside a copy of the shipped weights (as in a clone, so the
    relative ``rovers.colouriser.weights`` path resolves the same in the workdir and in copies of it)."""
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(tiny_config()))
    shutil.copytree(ROOT / "weights", workdir / "weights", dirs_exist_ok=True)
    return path


def snakemake(
    workdir: Path, *args: str, timeout: int = 900, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile in ``workdir`` with ``workdir/config.yaml``."""
    cmd = [
        SNAKEMAKE,
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        f"--configfile={workdir / 'config.yaml'}",  # "=": targets after it are not read as config files
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
