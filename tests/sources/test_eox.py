"""EOX WMS adapter against a local WMS that renders a synthetic lon/lat pattern for any bbox."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from localserver import LocalServer, Request
from PIL import Image
from rasterio.io import MemoryFile

from areograph.sources import BBox, SourceError, get_source
from areograph.sources.eox import attribution, plan_ground_grid, split_grid

BOX = BBox(-120.0, 37.0, -119.5, 37.4)
SERVER_MAX_PX = 64
PERIOD = 0.05  # degrees: ~22 px per period at 200 m, a one-pixel shift changes values by up to ~36


def pattern(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """RGB uint8: R follows longitude, G latitude, B both, all smooth but steep."""
    r = 127.5 + 127 * np.sin(2 * np.pi * lon / PERIOD)
    g = 127.5 + 127 * np.sin(2 * np.pi * lat / PERIOD)
    b = 127.5 + 127 * np.sin(2 * np.pi * (lon + lat) / (2 * PERIOD))
    return np.rint(np.stack([r, g, b])).astype(np.uint8)


def wms(req: Request) -> tuple[int, bytes, str]:
    """A minimal WMS GetMap: EPSG:4326 in 1.1.1 (lon,lat) and 1.3.0 (lat,lon) axis order."""
    q = {k.upper(): v for k, v in req.query.items()}
    width, height = int(q["WIDTH"]), int(q["HEIGHT"])
    if width > SERVER_MAX_PX or height > SERVER_MAX_PX or q.get("REQUEST") != "GetMap":
        xml = b'<?xml version="1.0"?><ServiceExceptionReport><ServiceException>Image too large'
        return 200, xml + b"</ServiceException></ServiceExceptionReport>", "application/vnd.ogc.se_xml"
    a, b, c, d = (float(v) for v in q["BBOX"].split(","))
    if q["VERSION"] == "1.3.0":
        assert q["CRS"] == "EPSG:4326"
        south, west, north, east = a, b, c, d
    else:
        assert q["SRS"] == "EPSG:4326"
        west, south, east, north = a, b, c, d
    lon = west + (np.arange(width) + 0.5) * (east - west) / width
    lat = north - (np.arange(height) + 0.5) * (north - south) / height
    rgb = pattern(*np.meshgrid(lon, lat))
    fmt = q["FORMAT"]
    if fmt == "image/tiff":
        with MemoryFile() as mem:
            with mem.open(
                driver="GTiff",
                width=width,
                height=height,
                count=3,
                dtype="uint8",
                crs="EPSG:4326",
                transform=Affine((east - west) / width, 0, west, 0, -(north - south) / height, north),
            ) as ds:
                ds.write(rgb)
            return 200, mem.read(), fmt
    buf = io.BytesIO()
    Image.fromarray(np.moveaxis(rgb, 0, -1)).save(
        buf, format="PNG" if fmt == "image/png" else "JPEG", quality=95
    )
    return 200, buf.getvalue(), fmt


@pytest.fixture
def srv():
    with LocalServer() as server:
        server.add("/wms", wms, fail_times=1)  # the first request fails with a 500
        yield server


def fetch(srv, tmp_path, **options):
    opts = {"url": srv.url("/wms"), "max_px": SERVER_MAX_PX, "backoff_s": 0.01, "retries": 2, **options}
    return get_source("eox", opts).fetch_raster("earth_imagery", BOX, tmp_path / "imagery.tif")


def check_alignment(path, tolerance: float) -> np.ndarray:
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.count == 3 and ds.dtypes[0] == "uint8"
        assert ds.bounds.left == pytest.approx(BOX.west) and ds.bounds.right == pytest.approx(BOX.east)
        assert ds.bounds.bottom == pytest.approx(BOX.south) and ds.bounds.top == pytest.approx(BOX.north)
        cols, rows = np.meshgrid(np.arange(ds.width) + 0.5, np.arange(ds.height) + 0.5)
        lon, lat = ds.transform @ (cols, rows)
        got = ds.read().astype(float)
    err = np.abs(got - pattern(lon, lat))
    assert err.max() <= tolerance, f"max error {err.max()}"
    return got


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_mosaic_is_aligned_in_both_axis_orders(srv, tmp_path, version):
    out = fetch(srv, tmp_path, format="image/png", wms_version=version)
    check_alignment(out, tolerance=1)
    grid = plan_ground_grid(BOX, 200)
    n_blocks = len(split_grid(grid.width, grid.height, SERVER_MAX_PX))
    assert n_blocks >= 9
    assert srv.routes["/wms"].hits == n_blocks + 1  # plus the failed first try
    with rasterio.open(out) as ds:
        tags = ds.tags()
    assert tags["ATTRIBUTION"] == attribution(2020)
    assert "Copernicus Sentinel data 2020" in tags["ATTRIBUTION"]
    assert tags["TIFFTAG_COPYRIGHT"] == attribution(2020)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["imagery.tif"]  # tile cache removed


def test_pixels_are_square_on_the_ground(srv, tmp_path):
    out = fetch(srv, tmp_path, format="image/png", resolution_m=500)
    with rasterio.open(out) as ds:
        dx, dy = ds.transform.a, -ds.transform.e
    lat_m = math.radians(dy) * 6_371_008.8
    lon_m = math.radians(dx) * 6_371_008.8 * math.cos(math.radians(37.2))
    assert lat_m == pytest.approx(500, rel=0.02) and lon_m == pytest.approx(500, rel=0.02)


def test_geotiff_and_jpeg_responses(srv, tmp_path):
    check_alignment(fetch(srv, tmp_path, format="image/tiff"), tolerance=1)
    (tmp_path / "imagery.tif").unlink()
    check_alignment(fetch(srv, tmp_path, format="image/jpeg"), tolerance=40)


def test_year_selects_layer_and_attribution(srv, tmp_path):
    out = fetch(srv, tmp_path, format="image/png", year=2018, resolution_m=2000)
    assert {q["LAYERS"] for q in srv.routes["/wms"].queries} == {"s2cloudless-2018"}
    with rasterio.open(out) as ds:
        tags = ds.tags()
    assert tags["AREOGRAPH_SOURCE"] == "eox:s2cloudless-2018"
    assert tags["ATTRIBUTION"].endswith("(Contains modified Copernicus Sentinel data 2017 & 2018)")


def test_service_exception_fails_cleanly(srv, tmp_path):
    with pytest.raises(SourceError, match="Image too large"):
        fetch(srv, tmp_path, format="image/png", max_px=100)  # above what the server accepts
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not (tmp_path / "imagery.tif").exists()
    assert all(p.suffix == ".png" for p in leftovers)  # only good tiles stay cached for a re-run


def test_split_grid_covers_each_pixel_once():
    blocks = split_grid(130, 70, 64)
    cover = np.zeros((70, 130), int)
    for c, r, w, h in blocks:
        assert w <= 64 and h <= 64
        cover[r : r + h, c : c + w] += 1
    assert (cover == 1).all()
