"""End to end: the real Snakefile on the real offline sample with a tiny config (small tiles, few steps).

This is the one test that runs the whole DAG; the per-module tests check the pieces.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml
from tiny import ROOT, snakemake

from areograph.artefacts.evaluation import eval_files
from areograph.artefacts.layout import benchmark_file, eval_dir, log_file, model_dir, terrain_model_name
from areograph.artefacts.model_dir import model_file
from areograph.artefacts.shipped import shipped_files
from areograph.config import load_config


@pytest.fixture(scope="module")
def built(tiny_workflow: Path) -> Path:
    return tiny_workflow


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


@pytest.mark.slow
def test_mosaic_is_a_valid_cog_in_the_mars_crs_with_a_footprint(built: Path) -> None:
    """What GIS tools need: rio cogeo validates it, GDAL reads the Mars CRS, a lon/lat footprint."""
    from rio_cogeo.cogeo import cog_validate

    tif = built / "results/mars/gale/terraformed.tif"
    valid, errors, warnings = cog_validate(str(tif), strict=True)
    assert valid, (errors, warnings)
    with rasterio.open(tif) as src:  # GDAL's own WKT, what gdalinfo prints as "Coordinate System is"
        wkt = src.crs.to_wkt()
    assert "Mars (2015)" in wkt and "Azimuthal" in wkt, wkt
    with rasterio.open(tif) as src:
        # overviews halve until one 256 px block holds the image: none for the tiny run's 128 px mosaic
        # (tests/test_geotiff.py checks the levels of images that need them)
        assert (src.width, src.height) == (128, 128) and src.overviews(1) == []
    footprint = json.loads((built / "results/mars/gale/terraformed.geojson").read_text())
    feature = footprint["features"][0]
    assert "Mars" in feature["properties"]["crs_name"]
    lons, lats = np.array(feature["geometry"]["coordinates"][0]).T
    assert lons.min() < 137.8 < lons.max() and lats.min() < -5.4 < lats.max()
    metrics = json.loads((built / "results/eval/terrain/metrics.json").read_text())
    methods = metrics["regions"]["sierra"]["methods"]
    assert {"pix2pix", "baseline", "lookup", "constant"} <= set(methods)
    assert np.isfinite(methods["pix2pix"]["psnr"]) and methods["pix2pix"]["texture"] > 0
    assert set(metrics["regions"]) == {"sierra", "foothills"}  # blocks, and a whole held-out region
    assert (built / "results/eval/terrain/regions/foothills.png").stat().st_size > 1000


@pytest.mark.slow
def test_every_job_logged_and_nothing_left_to_do(built: Path) -> None:
    logs = list((built / "results/logs").rglob("*.log"))
    assert len(logs) >= 8
    dry = snakemake(built, "-n", "--cores", "1")
    assert dry.returncode == 0
    assert "Nothing to be done" in dry.stdout + dry.stderr


@pytest.mark.slow
def test_rover_outputs(built: Path) -> None:
    from areograph.render.video import probe_video

    video = probe_video(built / "results/rovers/opportunity_colour.mp4")
    assert (video["frames"], video["fps"], video["width"], video["height"]) == (6, 5.0, 1024, 1024)
    assert (video["codec"], video["pix_fmt"]) == ("h264", "yuv420p")
    pair = probe_video(built / "results/rovers/opportunity_side_by_side.mp4")
    assert pair["frames"] == 6 and pair["width"] > 2 * 1024
    report = (built / "results/rovers/quality_report.csv").read_text().splitlines()
    assert len(report) == 1 + 53
    # The default run scores the shipped colouriser against the baselines that need no training;
    # `snakemake train` scores the colourisers trained here beside it.
    metrics = json.loads((built / "results/eval/colour/metrics.json").read_text())
    assert set(metrics["models"]) == {"shipped", "mean_colour", "greyscale"}
    trained = json.loads((built / "results/eval/colour_trained/metrics.json").read_text())
    assert {"colouriser", "baseline", "shipped", "mean_colour", "greyscale"} <= set(trained["models"])


def _dry_run_jobs(*args: str) -> list[tuple[str, str]]:
    """(rule, region wildcard or "") of every job of ``snakemake -n --forceall`` in the repository."""
    run = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "-n", "--forceall", "--cores", "1", *args],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    jobs = []
    for block in re.split(r"^(?:local)?rule ", run.stdout, flags=re.M)[1:]:
        region = re.search(r"^    wildcards: .*?\bregion=(\w+)", block, re.M)
        jobs.append((block.split(":", 1)[0], region.group(1) if region else ""))
    return jobs


def _earth_jobs(jobs: list[tuple[str, str]]) -> list[str]:
    """The jobs that fetch, tile or pack Earth data (of the Earth regions of config.yaml)."""
    regions = yaml.safe_load((ROOT / "config.yaml").read_text())["regions"]  # overlays keep them
    earth = {r["name"] for r in regions if r["planet"] == "earth"}
    fetched = ("fetch_raster", "tile_layer")
    return sorted(f"{rule} {region}".strip() for rule, region in jobs
                  if rule == "pack_terrain_pairs" or (rule in fetched and region in earth))  # fmt: skip


def test_mars_only_targets_with_shipped_weights_touch_no_earth_data(tmp_path: Path) -> None:
    """Rendering Gale with the shipped weights (they carry their own Earth elevation quantiles) fetches,
    tiles and packs nothing of Earth; with a model trained here the Earth pack is needed, and planned."""
    jobs = _dry_run_jobs("results/mars/gale/terraformed.tif", "results/viewer/gale")
    # the run's one Mars hypsometry reads every Mars region of the config: gale and gale_lake
    assert sorted(rule for rule, _ in jobs) == [
        "fetch_raster", "fetch_raster", "mars_hypsometry", "render_mars", "tile_layer", "tile_layer", "viewer"
    ]  # fmt: skip
    assert _earth_jobs(jobs) == []
    jobs = _dry_run_jobs("--configfile", "configs/planet.yaml", "--", "planet")
    assert sum(rule == "render_mars" for rule, _ in jobs) > 1
    assert _earth_jobs(jobs) == []
    trained = tmp_path / "trained.yaml"  # overlays config.yaml: render with the pix2pix trained here
    trained.write_text("render: {weights: null}\n")
    jobs = _dry_run_jobs("--configfile", str(trained), "--", "results/mars/gale/terraformed.tif")
    assert {"pack_terrain_pairs", "fetch_raster sierra", "tile_layer sierra"} <= set(_earth_jobs(jobs))
    assert ("train_terrain", "") in jobs


def test_the_files_code_reads_back_are_where_the_rules_write_them(tmp_path: Path) -> None:
    """ship.py and config.py find a run's files through artefacts.layout; the rules spell the same paths
    as templates. A dry run (another results_dir, a compare variant that is shipped) lists them all."""
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({"results_dir": "results/elsewhere", "rovers": {
        "compare": {"wide": {"ngf": 16}}, "ship": "wide", "colouriser": {"weights": None}}}))  # fmt: skip
    run = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "-n", "--forceall", "--cores", "1", "all", "train",
         "ship_colouriser", "--configfile", str(overlay)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    written = {f for m in re.finditer(r"^    (?:output|log|benchmark): (.+)$", run.stdout, re.M)
               for f in m.group(1).split(", ")}  # fmt: skip
    config, results = load_config(ROOT / "config.yaml"), "results/elsewhere"
    expected = [eval_files(eval_dir(results, suite))["metrics"] for suite in ("terrain", "colour_trained")]
    for m in config["terrain_models"]:
        expected += [model_file(model_dir(results, terrain_model_name(m))),
                     benchmark_file(results, "train_terrain", m),
                     log_file(results, "train_terrain", m)]  # fmt: skip
    colour = ("colouriser", "colour_baseline", "colouriser_wide")
    expected += [model_file(model_dir(results, d)) for d in colour]
    expected += [benchmark_file(results, "train_colour_variant", "wide")]  # the shipped method's (ship.py)
    expected += [shipped_files(Path(results, "ship", "colouriser"))["card"]]
    missing = [str(p) for p in expected if str(p) not in written]
    assert not missing and len(expected) > 10, missing
