"""Bring-your-own rasters: one file, a glob of tiles, any CRS, delivered in the live sources' form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import calculate_default_transform, reproject
from rasterio.windows import Window

from areograph.sources import BBox, SourceError, get_source

BOX = BBox(-119.8, 37.3, -119.2, 37.9)


@pytest.fixture(scope="module")
def dem(sample_dir: Path) -> Path:
    return sample_dir / "earth/srtm_sierra_nevada_west_90m.tif"


@pytest.fixture(scope="module")
def utm_dem(dem: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample SRTM warped to UTM zone 11N: a projected CRS in metres."""
    out = tmp_path_factory.mktemp("utm") / "dem_utm.tif"
    with rasterio.open(dem) as s:
        t, w, h = calculate_default_transform(s.crs, "EPSG:32611", s.width, s.height, *s.bounds)
        with rasterio.open(
            out, "w", **(s.profile | {"crs": "EPSG:32611", "transform": t, "width": w, "height": h})
        ) as d:
            reproject(rasterio.band(s, 1), rasterio.band(d, 1))
    return out


def _fetch(path: str, tmp_path: Path, name: str = "out.tif") -> np.ndarray:
    out = get_source("files", {"path": path}).fetch_raster("earth_elevation", BOX, tmp_path / name)
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 4326 and ds.nodata == -32768
        b = ds.bounds
        assert b.left <= BOX.west + 1e-9 and b.top >= BOX.north - 1e-9 and b.right >= BOX.east - 1e-3
        return ds.read(1).astype(float)


def test_geographic_and_projected_files_give_the_same_ground(
    dem: Path, utm_dem: Path, tmp_path: Path
) -> None:
    a = _fetch(str(dem), tmp_path, "a.tif")
    b = _fetch(str(utm_dem), tmp_path, "b.tif")
    assert 1500 < a.mean() < 2800
    assert abs(a.mean() - b.mean()) < 5  # same terrain through two CRSs (resampled twice for UTM)


def test_glob_of_tiles_is_mosaicked(dem: Path, tmp_path: Path) -> None:
    with rasterio.open(dem) as s:
        half = s.width // 2
        for k, win in enumerate(
            (Window(0, 0, half + 1, s.height), Window(half, 0, s.width - half, s.height))
        ):
            prof = s.profile | {
                "width": win.width,
                "height": win.height,
                "transform": s.window_transform(win),
            }
            with rasterio.open(tmp_path / f"tile_{k}.tif", "w", **prof) as d:
                d.write(s.read(1, window=win), 1)
    whole = _fetch(str(dem), tmp_path, "whole.tif")
    mosaic = _fetch(str(tmp_path / "tile_*.tif"), tmp_path, "mosaic.tif")
    assert whole.shape == mosaic.shape and np.array_equal(whole, mosaic)


def test_errors_name_the_path(dem: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no file matches"):
        get_source("files", {"path": str(tmp_path / "nothing_*.tif")}).fetch_raster(
            "earth_elevation", BOX, tmp_path / "x.tif"
        )
    with pytest.raises(SourceError, match="no data inside box"):
        get_source("files", {"path": str(dem)}).fetch_raster(
            "earth_elevation", BBox(10, 10, 11, 11), tmp_path / "x.tif"
        )
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a tiff")
    with pytest.raises(SourceError, match=r"junk\.tif: cannot read"):
        get_source("files", {"path": str(junk)}).fetch_raster("earth_elevation", BOX, tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()
