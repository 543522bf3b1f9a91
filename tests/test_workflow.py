"""End to end: the real Snakefile on the real offline sample with a tiny config (small tiles, few steps).

This is the one test that runs the whole DAG; the per-module tests check the pieces.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml

from areograph.config import load_config

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def tiny_config() -> dict:
    """The shipped config shrunk: 64 px tiles at 200 m, tiny models, a few training steps, both tracks."""
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
        {"name": "gale", "planet": "mars", "lon": 137.8, "lat": -5.4, "tiles_per_side": 2, "split": "render"},
    ]
    cfg["models"] = {
        "pix2pix": {"ngf": 4, "ndf": 4, "depth": None, "d_layers": 3, "dropout": 0.5},
        "baseline": {"width": 4},
    }
    cfg["training"].update({"steps": 6, "checkpoint_every": 3, "load_px": 72})
    cfg["render"] = {"window_px": 64, "overlap_px": 32}
    rovers = cfg["rovers"]
    rovers["colouriser"].update({"ngf": 4, "ndf": 4})
    rovers["baseline"] = {"width": 4}
    rovers["training"].update({"steps": 4, "batch_size": 4, "checkpoint_every": 2})
    rovers["patches"].update({"max_side_px": 256})
    return cfg


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        SNAKEMAKE,
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("workflow")
    (workdir / "config.yaml").write_text(yaml.safe_dump(tiny_config()))
    run = snakemake(workdir, "--cores", "2")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    return workdir


@pytest.mark.slow
def test_terraform_outputs_exist_and_are_georeferenced(built: Path) -> None:
    tif = built / "results/mars/gale/terraformed.tif"
    with rasterio.open(tif) as src:
        assert src.count == 3 and src.dtypes[0] == "uint8"
        assert "aeqd" in src.crs.to_proj4()
        assert src.width == src.height == 2 * 64
        assert abs(src.res[0] - 200) < 1e-6
        assert abs(src.bounds.left + 64 * 200) < 200 and abs(src.bounds.top - 64 * 200) < 200
        assert src.read(1).std() > 0
    for png in ["quicklook.png", "side_by_side.png"]:
        assert (built / "results/mars/gale" / png).stat().st_size > 1000
    metrics = json.loads((built / "results/eval/terrain/metrics.json").read_text())
    assert {"pix2pix", "baseline", "lookup"} <= set(metrics["models"])
    assert np.isfinite(metrics["models"]["pix2pix"]["psnr"])


@pytest.mark.slow
def test_every_job_logged_and_nothing_left_to_do(built: Path) -> None:
    logs = list((built / "results/logs").rglob("*.log"))
    assert len(logs) >= 8
    dry = snakemake(built, "-n", "--cores", "1")
    assert dry.returncode == 0
    assert "Nothing to be done" in dry.stdout + dry.stderr
