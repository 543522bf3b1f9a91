"""USGS DEM adapter: remote window reads through GDAL /vsicurl/ from a local range-capable server."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
import rasterio
from affine import Affine
from localserver import LocalServer

from areograph.sources import BBox, SourceError, get_source
from areograph.sources.usgs import geographic_relabel, lon_shift, pixel_window

R_MARS = 3_396_190.0
STEP_DEG = 0.02
# The real USGS mosaics' projection: equirectangular on the Mars 2000/2015 sphere, centred on 0 E.
EQC_WKT = pyproj.CRS("IAU_2015:49910").to_wkt("WKT1_GDAL")
WEST_DEG, NORTH_DEG, SIZE = 130.0, 5.0, 1000  # the DEM covers 130..150 E, 15 S..5 N


@pytest.fixture(scope="module")
def dem(tmp_path_factory):
    """A 1000 x 1000 int16 tiled GeoTIFF in the Mars equirectangular CRS, incompressible values."""
    path = tmp_path_factory.mktemp("dem") / "mars_dem.tif"
    step_m = math.radians(STEP_DEG) * R_MARS
    transform = Affine(
        step_m, 0, math.radians(WEST_DEG) * R_MARS, 0, -step_m, math.radians(NORTH_DEG) * R_MARS
    )
    data = np.random.default_rng(0).integers(-8000, 20000, (SIZE, SIZE), dtype=np.int16)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=1,
        dtype="int16",
        crs=EQC_WKT,
        transform=transform,
        nodata=-32768,
        tiled=True,
        blockxsize=128,
        blockysize=128,
    ) as ds:
        ds.write(data, 1)
    return path, data


@pytest.fixture
def srv(dem):
    with LocalServer() as server:
        server.add_file("/mosaic/Mars_DEM.tif", dem[0], content_type="image/tiff")
        yield server


def fetch(srv, tmp_path, box, name="/mosaic/Mars_DEM.tif", **opts):
    options = {"url": srv.url(name), "retries": 2, "backoff_s": 0.01, "timeout_s": 5, **opts}
    return get_source("usgs", options).fetch_raster("mars_elevation", box, tmp_path / "gale.tif")


def test_window_read_with_range_requests_only(srv, dem, tmp_path):
    path, data = dem
    box = BBox(137.0, -6.0, 138.0, -5.0)
    out = fetch(srv, tmp_path, box)
    route = srv.routes["/mosaic/Mars_DEM.tif"]
    assert route.bytes_sent < 0.2 * path.stat().st_size  # no full download
    assert any(r and r.startswith("bytes=") for r in route.range_headers)
    with rasterio.open(out) as ds:
        assert ds.crs.to_string() == "IAU_2015:49900"
        assert ds.nodata == -32768 and ds.dtypes[0] == "int16"
        assert ds.transform.a == pytest.approx(STEP_DEG) and ds.transform.e == pytest.approx(-STEP_DEG)
        assert ds.bounds.left == pytest.approx(137.0) and ds.bounds.right == pytest.approx(138.0)
        assert ds.bounds.top == pytest.approx(-5.0) and ds.bounds.bottom == pytest.approx(-6.0)
        got = ds.read(1)
        assert ds.tags()["AREOGRAPH_SOURCE"].startswith("usgs:http://127.0.0.1")
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    row0, col0 = round((NORTH_DEG - -5.0) / STEP_DEG), round((137.0 - WEST_DEG) / STEP_DEG)
    np.testing.assert_array_equal(got, data[row0 : row0 + 50, col0 : col0 + 50])


def test_every_request_is_a_range_request(srv, tmp_path):
    fetch(srv, tmp_path, BBox(140.0, -10.0, 140.5, -9.5))
    ranges = [r for r in srv.routes["/mosaic/Mars_DEM.tif"].range_headers]
    gets = [r for r in ranges if r is not None]
    assert gets and len(gets) >= len(ranges) - 1  # at most one HEAD/plain probe, never a full GET
    assert srv.routes["/mosaic/Mars_DEM.tif"].bytes_sent < 300_000


def test_other_longitude_domain_and_partial_pixels(srv, tmp_path):
    # 137.01 E written as -222.99 E: the box is moved by 360 into the DEM's range; edges round outwards
    out = fetch(srv, tmp_path, BBox(137.01 - 360, -5.99, 137.39 - 360, -5.61))
    with rasterio.open(out) as ds:
        assert ds.bounds.left == pytest.approx(137.0) and ds.bounds.right == pytest.approx(137.4)
        assert ds.bounds.bottom == pytest.approx(-6.0) and ds.bounds.top == pytest.approx(-5.6)


def test_cached_window_is_reused(srv, tmp_path):
    box = BBox(137.0, -6.0, 137.5, -5.5)
    out = fetch(srv, tmp_path, box)
    hits, stamp = srv.routes["/mosaic/Mars_DEM.tif"].hits, out.stat().st_mtime_ns
    fetch(srv, tmp_path, box)
    assert srv.routes["/mosaic/Mars_DEM.tif"].hits == hits
    assert out.stat().st_mtime_ns == stamp  # not rewritten
    fetch(srv, tmp_path, BBox(137.0, -6.0, 137.6, -5.5))  # another box replaces the cached window
    with rasterio.open(out) as ds:
        assert ds.bounds.right == pytest.approx(137.6)


def test_transient_500_is_retried(srv, dem, tmp_path):
    srv.add_file("/flaky.tif", dem[0], fail_times=1)
    out = fetch(srv, tmp_path, BBox(137.0, -6.0, 137.2, -5.8), name="/flaky.tif")
    assert out.is_file()
    assert srv.routes["/flaky.tif"].hits >= 2


def test_box_outside_dem_and_missing_url_fail_clearly(srv, tmp_path):
    with pytest.raises(SourceError, match="outside the DEM"):
        fetch(srv, tmp_path, BBox(10.0, 20.0, 11.0, 21.0))
    with pytest.raises(SourceError, match=r"/missing\.tif: cannot read"):
        fetch(srv, tmp_path, BBox(137.0, -6.0, 138.0, -5.0), name="/missing.tif", retries=0)
    assert not any(tmp_path.iterdir())


def test_helpers():
    assert lon_shift(BBox(200, 0, 201, 1), -180, 180) == -360
    assert lon_shift(BBox(-160, 0, -159, 1), 0, 360) == 360
    assert lon_shift(BBox(10, 0, 11, 1), -180, 180) == 0
    win = pixel_window((0.5, -3.2, 2.5, -0.1), Affine(1, 0, 0, 0, -1, 0), 10, 10)
    assert (win.col_off, win.row_off, win.width, win.height) == (0, 0, 3, 4)
    polar = pyproj.CRS("+proj=stere +lat_0=90 +R=3396190 +units=m")
    assert geographic_relabel(polar, Affine(1000, 0, 0, 0, -1000, 0), 10, 10) is None
