"""The offline sample adapter delivers files in the live adapters' form, and fails naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rasterio

from areograph.sources import BBox, SourceError, get_source


def test_raster_crop_covers_box_in_geographic_crs(tmp_path: Path) -> None:
    box = BBox(-119.8, 37.4, -119.2, 37.9)
    out = get_source("sample").fetch_raster("earth_elevation", box, tmp_path / "dem.tif")
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 4326
        b = src.bounds
        assert b.left <= box.west and b.right >= box.east and b.bottom <= box.south and b.top >= box.north
        assert b.right - b.left < (box.east - box.west) + 3 * src.res[0]  # a crop, not the whole file
        assert src.nodata == -32768 and src.dtypes[0] == "int16"


def test_imagery_is_plain_rgb(tmp_path: Path) -> None:
    out = get_source("sample").fetch_raster(
        "earth_imagery", BBox(-119.8, 37.4, -119.2, 37.9), tmp_path / "s2.tif"
    )
    with rasterio.open(out) as src:
        assert src.count == 3 and src.dtypes[0] == "uint8"
        assert src.read().mean() > 10


def test_mars_dem_keeps_its_mars_crs(tmp_path: Path) -> None:
    out = get_source("sample").fetch_raster(
        "mars_elevation", BBox(137.0, -6.0, 138.5, -4.5), tmp_path / "m.tif"
    )
    with rasterio.open(out) as src:
        assert "49900" in src.crs.to_string()


def test_box_outside_sample_names_file_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"srtm_sierra_nevada_west_90m\.tif: requested box"):
        get_source("sample").fetch_raster("earth_elevation", BBox(10, 10, 11, 11), tmp_path / "dem.tif")
    assert list(tmp_path.iterdir()) == []


def test_missing_sample_names_file(tmp_path: Path) -> None:
    source = get_source("sample", {"root": str(tmp_path)})
    with pytest.raises(SourceError, match="sample file missing"):
        source.fetch_raster("earth_elevation", BBox(-119.8, 37.4, -119.2, 37.9), tmp_path / "dem.tif")


def test_collections_come_with_manifest(tmp_path: Path, sample_dir: Path) -> None:
    colour = get_source("sample").fetch_collection("rover_colour", tmp_path / "colour")
    header, *rows = (colour / "MANIFEST.csv").read_text().splitlines()
    assert len(rows) == 53 and header.split(",")[0] == "file"
    grey = get_source("sample").fetch_collection("rover_grey", tmp_path / "grey")
    assert len(list(grey.glob("*.IMG"))) == 6
    assert (grey / "MANIFEST.csv").read_text().startswith("file,")


def test_failed_collection_leaves_no_partial_folder(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(Path(__file__).resolve().parents[2] / "data/sample/rovers", root / "rovers")
    for f in (root / "rovers/opportunity").glob("*.IMG"):
        f.unlink()
    with pytest.raises(SourceError, match="no sample files"):
        get_source("sample", {"root": str(root)}).fetch_collection("rover_grey", tmp_path / "out")
    assert not (tmp_path / "out").exists()
