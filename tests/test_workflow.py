"""End to end: the real Snakefile on the real offline sample with a tiny config (small tiles, few steps).

This is the one test that runs the whole DAG; the per-module tests check the pieces.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from tiny import snakemake


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
        # overviews down to one 256 px block: the tiny run's 128 px mosaic needs none (tests/test_geotiff.py)
        assert src.overviews(1) or max(src.width, src.height) <= 256
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
    metrics = json.loads((built / "results/eval/colour/metrics.json").read_text())
    assert {"colouriser", "baseline", "mean_colour", "greyscale"} <= set(metrics["models"])
