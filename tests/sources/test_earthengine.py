"""Earth Engine adapter: chunk planning within EE limits, assembly of chunk GeoTIFFs served over HTTP
by a local server (as getDownloadURL URLs are), and credentials that never leak."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from urllib.parse import urlencode

import numpy as np
import pytest
import rasterio
from affine import Affine
from localserver import LocalServer, Request
from rasterio.io import MemoryFile

from areograph.sources import BBox, SourceError, get_source
from areograph.sources.earthengine import (
    MAX_GRID_PX,
    MAX_REQUEST_BYTES,
    EarthEngineSource,
    plan_chunks,
    plan_native_grid,
)
from areograph.sources.ee_client import ENV_KEY, EarthEngineClient, resolve_credentials

STEP = 1 / 3600
BOX = BBox(-119.60, 37.70, -119.42, 37.82)  # 648 x 432 px at 1 arc-second
SECRET = "TOPSECRET-5f0c2d"


def elevation(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Synthetic SRTM: steep enough that a one-pixel shift changes values; 'sea' north of 37.8 N."""
    z = 2000 + 1500 * np.sin(lon * 900.0) + 1000 * np.cos(lat * 700.0)
    return np.where(lat > 37.8, -32768, np.rint(z)).astype(np.int16)


def ee_chunk(req: Request) -> tuple[int, bytes, str]:
    """What a getDownloadURL GEO_TIFF URL returns: the exact requested grid as an int16 GeoTIFF."""
    a, b, c, d, e, f = (float(v) for v in req.query["t"].split(","))
    w, h = int(req.query["w"]), int(req.query["h"])
    if req.query.get("shift"):
        c += a * 3  # a broken server: three pixels off
    cols, rows = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    lon, lat = c + a * cols, f + e * rows
    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            width=w,
            height=h,
            count=1,
            dtype="int16",
            crs="EPSG:4326",
            transform=Affine(a, b, c, d, e, f),
            nodata=-32768,
        ) as ds:
            ds.write(elevation(lon, lat), 1)
        return 200, mem.read(), "image/tiff"


class LocalEarthEngine:
    """Stands in for the thin ee layer (the only part that needs Google): returns local chunk URLs."""

    def __init__(self, srv: LocalServer, shift: bool = False) -> None:
        self.srv, self.shift, self.requests = srv, shift, []

    def download_url(self, asset, band, crs, transform, width, height, nodata) -> str:
        assert crs == "EPSG:4326" and nodata == -32768
        self.requests.append((asset, band, width, height))
        q = {"t": ",".join(repr(v) for v in transform), "w": width, "h": height}
        return self.srv.url("/ee/download") + "?" + urlencode(q | ({"shift": 1} if self.shift else {}))


@pytest.fixture
def srv():
    with LocalServer() as server:
        server.add("/ee/download", ee_chunk, fail_times=1)
        yield server


def source(client, **opts) -> EarthEngineSource:
    options = {"max_request_bytes": 200 * 200 * 2, "backoff_s": 0.01, "retries": 2, **opts}
    return EarthEngineSource(options, client=client)


@pytest.mark.parametrize(
    ("width", "height", "max_bytes", "max_side"),
    [
        (648, 432, 80_000, 10_000),
        (30_000, 7_000, MAX_REQUEST_BYTES, MAX_GRID_PX),
        (12_000, 300, 48 << 20, 10_000),
        (1, 1, 1024, 16),
        (5000, 5000, 2_000_000, 700),
    ],
)
def test_chunks_respect_limits_and_cover_once(width, height, max_bytes, max_side):
    chunks = plan_chunks(width, height, 2, max_bytes, max_side)
    for ch in chunks:
        assert ch.width * ch.height * 2 <= max_bytes
        assert ch.width <= max_side and ch.height <= max_side
    # a grid of chunks: its column and row spans each tile their axis, and every pair occurs once
    for spans, total in (
        ({(c.col, c.width) for c in chunks}, width),
        ({(c.row, c.height) for c in chunks}, height),
    ):
        edge = 0
        for start, size in sorted(spans):
            assert start == edge and size > 0
            edge += size
        assert edge == total
    pairs = {(c.col, c.row) for c in chunks}
    assert len(pairs) == len(chunks) == len({c.col for c in chunks}) * len({c.row for c in chunks})
    lower_bound = max(-(-width * height * 2 // max_bytes), -(-width // max_side) * -(-height // max_side))
    assert len(chunks) <= 2 * lower_bound + 2  # near the fewest possible


def test_default_limits_give_4096_px_chunks():
    chunks = plan_chunks(9000, 4000)
    assert max(c.width for c in chunks) <= 4096 and len(chunks) == 3


def test_grid_is_snapped_to_native_srtm_samples():
    grid = plan_native_grid(BOX, STEP)
    centre0 = (grid.west + STEP / 2) / STEP
    assert centre0 == pytest.approx(round(centre0), abs=1e-6)
    assert grid.west <= BOX.west and grid.west + grid.width * STEP >= BOX.east
    assert grid.north >= BOX.north and grid.north - grid.height * STEP <= BOX.south


def test_chunks_assemble_into_one_aligned_geotiff(srv, tmp_path):
    ee = LocalEarthEngine(srv)
    out = source(ee).fetch_raster("earth_elevation", BOX, tmp_path / "srtm.tif")
    assert len(ee.requests) >= 6 and all(w * h * 2 <= 80_000 for _, _, w, h in ee.requests)
    assert srv.routes["/ee/download"].hits == len(ee.requests) + 1  # one 500 retried
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 4326 and ds.nodata == -32768 and ds.dtypes[0] == "int16"
        cols, rows = np.meshgrid(np.arange(ds.width) + 0.5, np.arange(ds.height) + 0.5)
        lon, lat = ds.transform @ (cols, rows)
        got = ds.read(1)
        assert ds.tags()["AREOGRAPH_SOURCE"] == "earthengine:USGS/SRTMGL1_003/elevation"
    np.testing.assert_array_equal(got, elevation(lon, lat))
    assert (got == -32768).any() and (got != -32768).any()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["srtm.tif"]  # chunk cache removed


def test_misregistered_chunk_is_rejected(srv, tmp_path):
    with pytest.raises(SourceError, match="georeferencing"):
        source(LocalEarthEngine(srv, shift=True)).fetch_raster("earth_elevation", BOX, tmp_path / "s.tif")
    assert list(tmp_path.iterdir()) == []


def test_missing_chunk_url_fails_naming_it(srv, tmp_path):
    srv.add("/ee/download", b"", fail_times=100, fail_status=503)
    with pytest.raises(SourceError, match=r"/ee/download\?t=.*HTTP 503"):
        source(LocalEarthEngine(srv)).fetch_raster("earth_elevation", BOX, tmp_path / "s.tif")
    assert not (tmp_path / "s.tif").exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.fixture
def key_file(tmp_path):
    key = {
        "type": "service_account",
        "project_id": "areograph-test",
        "private_key_id": SECRET + "-id",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n",
        "client_email": "fetcher@areograph-test.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "ee-key.json"
    path.write_text(json.dumps(key))
    return path


def test_credentials_resolved_from_config_or_environment(key_file):
    creds = resolve_credentials({}, {ENV_KEY: str(key_file), "EARTHENGINE_PROJECT": "p1"})
    assert (creds.key_path, creds.project) == (key_file, "p1")
    assert str(key_file) in creds.describe() and ENV_KEY in creds.describe()
    assert (
        resolve_credentials({"service_account_key": str(key_file)}, {}).origin
        == "options.service_account_key"
    )
    assert resolve_credentials({}, {}).key_path is None
    with pytest.raises(SourceError, match="key file not found"):
        resolve_credentials({"service_account_key": "/nonexistent/key.json"}, {})
    assert SECRET not in repr(creds) + repr(EarthEngineClient(creds))


def test_key_content_never_reaches_logs_errors_or_outputs(srv, tmp_path, key_file, caplog, monkeypatch):
    pytest.importorskip("ee")
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(ENV_KEY, str(key_file))
    src = get_source("earthengine", {"retries": 0})
    with pytest.raises(SourceError) as err:  # the real ee library rejects the fake key, offline
        src.fetch_raster("earth_elevation", BOX, tmp_path / "out" / "srtm.tif")
    assert str(key_file) in str(err.value)
    assert SECRET not in str(err.value) and SECRET not in caplog.text
    assert SECRET not in repr(src.options) and SECRET not in repr(src.client())
    # a successful run (local chunks) with the same key configured writes no trace of it
    out = source(LocalEarthEngine(srv), service_account_key=str(key_file)).fetch_raster(
        "earth_elevation", BOX, tmp_path / "srtm.tif"
    )
    with rasterio.open(out) as ds:
        assert SECRET not in repr(ds.tags()) and str(key_file) not in repr(ds.tags())
    assert SECRET not in caplog.text


def test_missing_earthengine_api_fails_only_when_used(monkeypatch, key_file, tmp_path):
    code = (
        "import sys; sys.modules['ee'] = None\n"
        "from areograph.sources import adapter_options_schema, get_source\n"
        "assert 'dataset' in adapter_options_schema('earthengine')['properties']\n"
        "src = get_source('earthengine', {})\n"
        "print('imported')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr
    monkeypatch.setitem(sys.modules, "ee", None)
    with pytest.raises(SourceError, match="pip install earthengine-api"):
        get_source("earthengine", {"service_account_key": str(key_file)}).fetch_raster(
            "earth_elevation", BOX, tmp_path / "s.tif"
        )
