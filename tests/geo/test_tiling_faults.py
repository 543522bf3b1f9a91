"""Tiling under bad input: tiles lost to missing coverage warn or fail; truncated rasters are named."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from areograph.artefacts.types import GeoError
from areograph.geo.grid import region_grid
from areograph.geo.tiling import reproject_to_grid, tile_region
from tests.geo.test_tiling import _holey_source


def test_tiles_lost_to_missing_coverage_warn_with_the_count_or_fail_above_the_limit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    grid = region_grid("holes", "earth", 0.0, 0.0, 3, 1, tile_px=32)  # the east tile is half uncovered
    src = _holey_source(tmp_path)
    caplog.set_level(logging.INFO, logger="areograph.geo")
    report = tile_region(src, grid, tmp_path / "ok", "bilinear", 0.02)
    assert len(report.dropped) == 1
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("kept 2 of 3 tiles, dropped 1" in m for m in warned), warned
    out = tmp_path / "strict"
    with pytest.raises(GeoError, match=r"1 of 3 tiles \(33%\).*tiles.max_dropped_fraction = 0.25"):
        tile_region(src, grid, out, "bilinear", 0.02, max_dropped_fraction=0.25)
    assert not out.exists()


def test_a_truncated_tiled_geotiff_names_the_file(tmp_path: Path) -> None:
    """The header (and tile offsets) are intact; the pixel blocks stop halfway: GDAL's 'Read failed'."""
    path = tmp_path / "truncated.tif"
    rng = np.random.default_rng(0)
    profile = {
        "driver": "GTiff", "width": 512, "height": 512, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
        "transform": Affine(0.0005, 0, -0.128, 0, -0.0005, 0.128), "tiled": True, "blockxsize": 256,
        "blockysize": 256, "compress": "deflate",
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(rng.uniform(0, 1000, (1, 512, 512)).astype(np.float32))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with rasterio.open(path) as ds:  # still opens: the damage is only found when reading
        assert ds.width == 512
    grid = region_grid("cut", "earth", 0.0, 0.0, 1, 1, tile_px=64)
    with pytest.raises(GeoError, match=r"truncated\.tif: cannot read the raster's pixels"):
        reproject_to_grid(path, grid, tmp_path / "out" / "region.tif", "bilinear")
    assert not (tmp_path / "out" / "region.tif").exists()
