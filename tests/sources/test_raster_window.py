"""Raster adapters across the antimeridian and across longitude conventions (sources/raster_window.py).

A region at 180 degrees must keep all its tiles (before: the box was clipped at the DEM's edge and 6 of
36 tiles were lost), and a -180..180 box on a 0..360 file (or the reverse) must not be "outside".
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
from affine import Affine
from localserver import LocalServer

from areograph.geo.grid import region_grid, unwrap_lon
from areograph.geo.tiling import tile_region
from areograph.sources import BBox, SourceError, get_source

STEP = 0.25  # degrees per pixel of the synthetic global DEMs
R_MARS = 3_396_190.0


def field(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Smooth and periodic in longitude, so it is continuous across the antimeridian."""
    return 2000.0 * np.cos(np.radians(lon)) + 3000.0 * np.sin(np.radians(3 * lon)) + 40.0 * lat


def _global(path: Path, crs: str, west: float) -> Path:
    """A global int16 DEM (west..west+360) in ``crs``; equirectangular ones are in metres."""
    width, height = round(360 / STEP), round(120 / STEP)  # 60 S .. 60 N is enough here
    lon = west + (np.arange(width) + 0.5) * STEP
    lat = 60.0 - (np.arange(height) + 0.5) * STEP
    values = np.rint(field(*np.meshgrid(lon, lat))).astype(np.int16)
    scale = math.radians(1) * R_MARS if "49910" in crs else 1.0
    transform = Affine(STEP * scale, 0, west * scale, 0, -STEP * scale, 60.0 * scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "int16",
               "crs": pyproj.CRS(crs).to_wkt("WKT1_GDAL") if "49910" in crs else crs, "transform": transform,
               "nodata": -32768, "tiled": True, "blockxsize": 256, "blockysize": 256}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def _check_field(path: Path) -> rasterio.coords.BoundingBox:
    with rasterio.open(path) as ds:
        lon, lat = ds.transform @ np.meshgrid(np.arange(ds.width) + 0.5, np.arange(ds.height) + 0.5)
        got = ds.read(1).astype(float)
        bounds = ds.bounds
    np.testing.assert_allclose(got, field(lon, lat), atol=0.6)  # stitched columns continue the grid
    return bounds


@pytest.mark.parametrize("west", [-180.0, 0.0])
def test_sample_adapter_region_across_the_antimeridian_keeps_every_tile(west: float, tmp_path: Path) -> None:
    _global(tmp_path / "root" / "mars" / "mola_megdr_gale_128ppd.tif", "IAU_2015:49900", west)
    source = get_source("sample", {"root": str(tmp_path / "root")})
    grid = region_grid("dateline", "mars", 179.8 if west < 0 else -0.2, 10.0, 6, 6, tile_px=32, gsd_m=2000)
    box = grid.download_box(2000.0)
    out = source.fetch_raster("mars_elevation", box, tmp_path / "raw" / "dem.tif")
    bounds = _check_field(out)
    assert bounds.right - bounds.left >= box.east - box.west  # nothing clipped at the edge
    report = tile_region(out, grid, tmp_path / "tiles", "bilinear", 0.02)
    assert len(report.kept) == 36 and report.dropped == {}


def test_sample_adapter_accepts_the_other_longitude_convention(tmp_path: Path) -> None:
    """The SRTM sample is -180..180; a config written 0..360 asks for 240.2 E (= 119.8 W)."""
    source = get_source("sample")
    plain = source.fetch_raster("earth_elevation", BBox(-119.8, 37.4, -119.2, 37.9), tmp_path / "a.tif")
    other = source.fetch_raster("earth_elevation", BBox(240.2, 37.4, 240.8, 37.9), tmp_path / "b.tif")
    with rasterio.open(plain) as a, rasterio.open(other) as b:
        np.testing.assert_array_equal(a.read(), b.read())
        assert a.transform.almost_equals(b.transform)


def test_usgs_adapter_stitches_a_window_across_the_antimeridian(tmp_path: Path) -> None:
    dem = _global(tmp_path / "global_eqc.tif", "IAU_2015:49910", -180.0)
    with LocalServer() as srv:
        srv.add_file("/mosaic/global.tif", dem, content_type="image/tiff")
        options = {"url": srv.url("/mosaic/global.tif"), "retries": 1, "backoff_s": 0.01, "timeout_s": 5}
        box = BBox(-182.0, -3.0, -178.0, 1.0)  # 178 E .. 182 E written west of -180
        out = get_source("usgs", options).fetch_raster("mars_elevation", box, tmp_path / "dem.tif")
    bounds = _check_field(out)
    assert bounds.right - bounds.left == pytest.approx(4.0)
    assert unwrap_lon(bounds.left, 180.0) == pytest.approx(178.0)


def test_a_box_no_shift_brings_onto_the_file_fails_before_reading_and_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"srtm_sierra.*outside.*move the region onto the source's extent"):
        get_source("sample").fetch_raster("earth_elevation", BBox(100, 37.4, 101, 37.9), tmp_path / "x.tif")
    assert list(tmp_path.iterdir()) == []


def test_boxes_for_minus_180_to_180_services_are_centred_without_breaking_their_span() -> None:
    from areograph.sources.raster_window import centred_box

    assert centred_box(BBox(240.2, 37.4, 240.8, 37.9)) == BBox(240.2 - 360, 37.4, 240.8 - 360, 37.9)
    assert centred_box(BBox(178.0, 0.0, 181.0, 1.0)) == BBox(178.0, 0.0, 181.0, 1.0)  # span kept
    assert centred_box(BBox(-183.0, 0.0, -179.0, 1.0)) == BBox(177.0, 0.0, 181.0, 1.0)
