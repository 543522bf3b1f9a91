"""The seed's own tile set in its published layout: project extents, ramp inversion, delivered rasters."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import Resampling, reproject

from areograph.sources import BBox, SourceError, get_source
from areograph.sources.pix2pix_terraform import ELEVATION_NODATA, read_project

EXPECTED = {"ANDES": "15ANDES", "CALI": "12CALI", "ITALY": "12ITALY", "NW": "12NW", "RI": "12RI"}


@pytest.fixture(scope="module")
def root(corpora_dir: Path) -> Path:
    return corpora_dir / "pix2pix-terraform"


@pytest.fixture(scope="module")
def source(root: Path):
    return get_source("pix2pix_terraform", {"root": str(root)})


def test_project_extents_and_ramp(root: Path) -> None:
    regions = read_project(root)
    assert {k: r.layer for k, r in regions.items()} == EXPECTED  # CZECH, NEPAL, ... have no folder here
    cali = regions["CALI"]
    assert cali.extent == pytest.approx((-122.0001987, 33.9994369, -115.3346993, 39.5204826), abs=1e-6)
    assert len(cali.ramp.values) == 255 and cali.ramp.values[0] == 0 and cali.ramp.values[-1] == 9000
    assert tuple(cali.ramp.colours[0]) == (0x30, 0x12, 0x3B)


def test_ramp_inversion_recovers_ramp_values_and_rejects_off_ramp_colours(root: Path) -> None:
    ramp = read_project(root)["ANDES"].ramp
    metres, rgb = ramp.dense(step_m=250.0)
    got = ramp.invert(np.round(rgb).astype(np.uint8)[None], max_distance=20)
    assert np.nanmax(np.abs(got[0] - metres)) < 20  # rounding to uint8 costs < 1 RGB step
    white = ramp.invert(np.array([[[255, 255, 255], [0, 0, 0]]], np.uint8), max_distance=20)
    assert np.isnan(white).all()  # the data set's white borders / sea and black are not on the ramp


def test_delivered_rasters_have_the_live_sources_form(source, tmp_path: Path) -> None:
    box = BBox(-119.9, 36.9, -119.1, 37.6)
    elev = source.fetch_raster("earth_elevation", box, tmp_path / "e.tif")
    img = source.fetch_raster("earth_imagery", box, tmp_path / "i.tif")
    with rasterio.open(elev) as e, rasterio.open(img) as i:
        assert e.crs.to_epsg() == 4326 == i.crs.to_epsg()
        assert (e.count, e.dtypes[0], e.nodata) == (1, "int16", ELEVATION_NODATA)
        assert (i.count, i.dtypes[0]) == (3, "uint8") and i.transform == e.transform
        b = e.bounds
        assert b.left <= box.west and b.right >= box.east and b.bottom <= box.south and b.top >= box.north
        values = e.read(1)
        assert 200 < np.median(values[values != ELEVATION_NODATA]) < 4000
        assert "CC BY-NC-SA" in e.tags()["AREOGRAPH_LICENCE"]


def test_missing_cali_block_is_nodata(source, tmp_path: Path) -> None:
    # rows 256-1536, cols 1536-2048 of the 3072 px CALI mosaic have no tiles
    w, s, e, n = read_project(source.root)["CALI"].extent
    lon = w + (1792 / 3072) * (e - w)
    lat = n - (900 / 3072) * (n - s)
    box = BBox(lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    with rasterio.open(source.fetch_raster("earth_elevation", box, tmp_path / "e.tif")) as ds:
        assert (ds.read(1) == ELEVATION_NODATA).all()
    with rasterio.open(source.fetch_raster("earth_imagery", box, tmp_path / "i.tif")) as ds:
        assert (ds.dataset_mask() == 0).all()


def test_recovered_elevation_against_real_srtm(source, sample_dir: Path, tmp_path: Path) -> None:
    """The figure docs/data.md states: error of the ramp-inverted heights against the sample's SRTM."""
    path = source.fetch_raster("earth_elevation", BBox(-120.3, 36.75, -118.7, 38.6), tmp_path / "e.tif")
    with rasterio.open(path) as c, rasterio.open(sample_dir / "earth/srtm_sierra_nevada_west_90m.tif") as s:
        got = c.read(1).astype(float)
        got[got == ELEVATION_NODATA] = np.nan
        ref = np.full(got.shape, np.nan)
        reproject(
            s.read(1).astype(float),
            ref,
            src_transform=s.transform,
            src_crs=s.crs,
            dst_transform=c.transform,
            dst_crs=c.crs,
            resampling=Resampling.average,
            dst_nodata=np.nan,
        )
    inner = np.s_[20:-20, 20:-20]
    diff = (got - ref)[inner]
    ok = np.isfinite(diff)
    assert ok.mean() > 0.99
    mae, bias = np.mean(np.abs(diff[ok])), np.mean(diff[ok])
    assert 80 < mae < 130 and abs(bias) < 20  # as delivered, georeferenced by the project's extents
    shifted = (np.roll(got, -7, axis=0) - ref)[inner]  # the data set's elevation sits ~7 rows south
    assert np.nanmean(np.abs(shifted)) < 70


def test_clear_errors(root: Path, tmp_path: Path) -> None:
    src = get_source("pix2pix_terraform", {"root": str(root)})
    with pytest.raises(SourceError, match="outside every region"):
        src.fetch_raster("earth_elevation", BBox(100, 10, 101, 11), tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()
    with pytest.raises(SourceError, match="QGIS project missing"):
        get_source("pix2pix_terraform", {"root": str(tmp_path)}).regions()
    bad = tmp_path / "clone" / "data"
    bad.mkdir(parents=True)
    with zipfile.ZipFile(bad / "TERRAFORM.qgz", "w") as z:
        z.writestr("TERRAFORM.qgs", "<qgis><not-closed>")
    with pytest.raises(SourceError, match="not a readable QGIS project"):
        read_project(tmp_path / "clone")
