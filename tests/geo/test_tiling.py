"""Reprojecting a region once into its AEQD grid and cutting tiles, on real GeoTIFFs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
from rasterio.enums import ColorInterp
from rasterio.transform import Affine

from areograph.artefacts.types import GeoError
from areograph.geo.crs import geographic_crs
from areograph.geo.grid import RegionGrid, region_grid, unwrap_lon
from areograph.geo.tiling import cut_tiles, reproject_to_grid, tile_region

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SRTM = SAMPLE / "earth" / "srtm_sierra_nevada_west_90m.tif"
Field = Callable[[np.ndarray, np.ndarray], np.ndarray]


def write_raster(
    path: Path,
    crs: str,
    west: float,
    north: float,
    res: float,
    width: int,
    height: int,
    field: Field,
    dtype: str = "float32",
    nodata: float | None = None,
    colorinterp: list[ColorInterp] | None = None,
) -> Path:
    """A north-up GeoTIFF whose pixel values are ``field(lon, lat)`` at the pixel centres."""
    transform = Affine(res, 0.0, west, 0.0, -res, north)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    xs, ys = transform @ (cols, rows)
    src_crs = pyproj.CRS(crs)
    if src_crs.is_geographic:
        lon, lat = xs, ys
    else:
        to_ll = pyproj.Transformer.from_crs(src_crs, src_crs.geodetic_crs, always_xy=True)
        lon, lat = to_ll.transform(xs, ys)
    values = np.asarray(field(lon, lat))
    values = values[None] if values.ndim == 2 else values
    if np.issubdtype(np.dtype(dtype), np.integer):
        values = np.rint(values)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=values.shape[0],
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(values.astype(dtype))
        if colorinterp:
            dst.colorinterp = colorinterp
    return path


def ramp(lon0: float, lat0: float) -> Field:
    """A flat tilted plane in lon/lat: tens of metres per 200 m pixel, so a half-pixel shift shows."""
    return lambda lon, lat: 1000.0 + 5000.0 * (lat - lat0) + 3000.0 * unwrap_lon(lon, lon0) - 3000.0 * lon0


def grid_lonlat(grid: RegionGrid) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of every pixel centre of the region grid (independently of the code under test)."""
    cols, rows = np.meshgrid(np.arange(grid.width) + 0.5, np.arange(grid.height) + 0.5)
    xs, ys = grid.transform @ (cols, rows)
    to_ll = pyproj.Transformer.from_crs(grid.crs, geographic_crs(grid.planet), always_xy=True)
    return to_ll.transform(xs, ys)


RAMP_CASES = [  # planet, source CRS, source west edge, grid lon, lat, dtype
    ("earth", "EPSG:4326", -119.8, -119.5, 37.68, "float32"),
    ("earth", "EPSG:4326", 9.7, 10.0, 60.0, "int16"),
    ("mars", "IAU_2015:49900", 137.5, 137.8, -5.4, "int16"),
    ("mars", "IAU_2015:49900", 206.7, -153.0, 20.0, "float32"),  # 0..360 source, -180..180 region
    ("mars", "IAU_2015:49900", -153.3, 207.0, 20.0, "float32"),  # and the other way round
    ("mars", "IAU_2015:49910", 137.5, 137.8, -5.4, "float32"),  # projected (equirectangular) source
]


@pytest.mark.parametrize(("planet", "crs", "west", "lon", "lat", "dtype"), RAMP_CASES)
def test_flat_ramp_survives_reprojection(
    tmp_path: Path, planet: str, crs: str, west: float, lon: float, lat: float, dtype: str
) -> None:
    field = ramp(lon, lat)
    span = 0.6  # degrees, much more than the 12.8 km region
    if crs == "IAU_2015:49910":  # metres of the Mars sphere along the equator
        deg = np.pi * 3_396_190.0 / 180
        src = write_raster(
            tmp_path / "src.tif", crs, west * deg, (lat + span / 2) * deg, 0.002 * deg, 300, 300, field, dtype
        )
    else:
        src = write_raster(tmp_path / "src.tif", crs, west, lat + span / 2, 0.002, 300, 300, field, dtype)
    grid = region_grid("ramp", planet, lon, lat, 2, 2, tile_px=32)
    out = reproject_to_grid(src, grid, tmp_path / "region.tif", "bilinear")
    with rasterio.open(out) as ds:
        assert ds.dtypes[0] == dtype
        assert ds.transform.almost_equals(grid.transform)
        assert (ds.dataset_mask() == 255).all()
        got = ds.read(1).astype(float)
    expected = field(*grid_lonlat(grid))  # 10 to 17 m per pixel: a half-pixel shift would show
    assert abs(got.mean() - expected.mean()) < 1.0
    assert np.abs(got - expected).mean() < 1.0
    # GDAL widens the bilinear kernel when downsampling (anti-aliasing), which biases single pixels by
    # up to ~0.1 px of slope; upsampled or not, no pixel is off by more than that.
    assert np.abs(got - expected).max() < 3.0


def test_imagery_keeps_dtype_bands_and_masks_uncovered_pixels(tmp_path: Path) -> None:
    colour = np.array([10.0, 120.0, 250.0])
    grid = region_grid("img", "earth", 0.0, 0.0, 2, 2, tile_px=32)
    # the source stops 30 % of the way into the region's east half
    east = 0.3 * 6400 / 111_320
    src = write_raster(
        tmp_path / "rgb.tif",
        "EPSG:4326",
        -0.2,
        0.2,
        0.001,
        int((east + 0.2) / 0.001),
        400,
        lambda lon, lat: colour[:, None, None] + 0 * lon,
        "uint8",
        colorinterp=[ColorInterp.red, ColorInterp.green, ColorInterp.blue],
    )
    for method in ("average", "lanczos"):
        out = reproject_to_grid(src, grid, tmp_path / f"{method}.tif", method)
        with rasterio.open(out) as ds:
            assert ds.count == 3 and ds.dtypes == ("uint8",) * 3
            assert ds.colorinterp == (ColorInterp.red, ColorInterp.green, ColorInterp.blue)
            valid = ds.dataset_mask() > 0
            data = ds.read()
        assert 0.6 < valid.mean() < 0.7  # 65 % of the region is covered
        assert not valid[:, -1].any() and valid[:, 0].all()
        # no dark fringe: invalid source pixels never enter the kernels
        assert (np.abs(data[:, valid].astype(int) - colour[:, None]) <= 1).all()
    with pytest.raises(ValueError, match="unknown resampling"):
        reproject_to_grid(src, grid, tmp_path / "x.tif", "bicubic-spline")


def _holey_source(tmp_path: Path) -> Path:
    """A DEM covering half of the region's east tile, with a small nodata hole in the middle tile."""
    field = ramp(0.0, 0.0)

    def holey(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        z = field(lon, lat)
        return np.where((np.abs(lon) < 0.003) & (np.abs(lat) < 0.003), -9999.0, z)

    east = 6400 / 111_320  # the east tile spans x = 3.2 .. 9.6 km: stop at its middle
    width = round((east + 0.2) / 0.0005)
    return write_raster(
        tmp_path / "dem.tif", "EPSG:4326", -0.2, 0.2, 0.0005, width, 800, holey, "float32", nodata=-9999.0
    )


def test_tiles_with_too_much_nodata_are_dropped_and_counted(tmp_path: Path, caplog) -> None:
    grid = region_grid("holes", "earth", 0.0, 0.0, 3, 1, tile_px=32)
    caplog.set_level(logging.INFO, logger="areograph.geo")
    report = tile_region(_holey_source(tmp_path), grid, tmp_path / "tiles", "bilinear", 0.02)
    assert report.kept == ["holes_r00_c00", "holes_r00_c01"]
    assert list(report.dropped) == ["holes_r00_c02"]
    assert 0.4 < report.dropped["holes_r00_c02"] < 0.6
    assert any("dropped 1" in r.getMessage() and r.name == "areograph.geo" for r in caplog.records)

    out = tmp_path / "tiles"
    assert sorted(p.name for p in out.iterdir()) == [
        "holes_r00_c00.tif",
        "holes_r00_c01.tif",
        "index.geojson",
        "region.tif",
    ]
    index = json.loads((out / "index.geojson").read_text())
    props = {f["properties"]["tile_id"]: f["properties"] for f in index["features"]}
    assert [p["kept"] for p in props.values()] == [True, True, False]
    assert props["holes_r00_c00"]["nodata_fraction"] == 0.0
    assert 0.0 < props["holes_r00_c01"]["nodata_fraction"] <= 0.02  # the hole: kept, then filled
    assert props["holes_r00_c02"]["planet"] == "earth" and props["holes_r00_c02"]["col"] == 2

    with rasterio.open(out / "holes_r00_c01.tif") as ds:
        filled = ds.read(1)
        assert (ds.dataset_mask() == 255).all() and (filled != -9999.0).all()
        assert ds.transform.almost_equals(grid.tile_transform(0, 1))
    lon, lat = grid_lonlat(grid)
    expected = ramp(0.0, 0.0)(lon, lat)[:, 32:64]
    assert np.abs(filled - expected).max() < 30.0  # the hole is filled from its (ramp) neighbours


def test_cut_tiles_checks_the_grid_and_keeps_region_raster(tmp_path: Path) -> None:
    grid = region_grid("holes", "earth", 0.0, 0.0, 3, 1, tile_px=32)
    out = tmp_path / "tiles"
    tile_region(_holey_source(tmp_path), grid, out, "bilinear", 0.02)
    report = cut_tiles(out / "region.tif", grid, out, 0.0, 1.0)  # stricter: the holed tile goes too
    assert report.kept == ["holes_r00_c00"] and len(report.dropped) == 2
    assert (out / "region.tif").is_file() and not (out / "holes_r00_c01.tif").exists()
    other = region_grid("holes", "earth", 0.5, 0.0, 3, 1, tile_px=32)
    with pytest.raises(GeoError, match=r"region\.tif: not on the grid"):
        cut_tiles(out / "region.tif", other, tmp_path / "other", 0.02)
    assert not (tmp_path / "other").exists()


def test_sample_srtm_region(tmp_path: Path) -> None:
    grid = region_grid("sierra", "earth", -119.5, 37.68, 2, 2)
    out = tmp_path / "sierra"
    report = tile_region(SRTM, grid, out, "bilinear", 0.02)
    assert report.kept == grid.tile_ids() and report.dropped == {}
    index = json.loads((out / "index.geojson").read_text())
    assert index["type"] == "FeatureCollection" and len(index["features"]) == 4
    box = grid.download_box(2000)
    with rasterio.open(SRTM) as src:
        bounds = src.bounds
    for feature in index["features"]:
        ring = np.array(feature["geometry"]["coordinates"][0])
        assert box.west <= ring[:, 0].min() and ring[:, 0].max() <= box.east
        assert box.south <= ring[:, 1].min() and ring[:, 1].max() <= box.north
        assert bounds.left < ring[:, 0].min() and ring[:, 1].max() < bounds.top
        row, col = feature["properties"]["row"], feature["properties"]["col"]
        with rasterio.open(out / f"{feature['properties']['tile_id']}.tif") as ds:
            assert ds.shape == (256, 256) and ds.dtypes[0] == "int16"
            assert ds.transform.almost_equals(grid.tile_transform(row, col))
            to_ll = pyproj.Transformer.from_crs(pyproj.CRS(ds.crs.to_wkt()), "EPSG:4326", always_xy=True)
            assert to_ll.transform(*(ds.transform @ (0, 0))) == pytest.approx(tuple(ring[0]), abs=1e-6)
            dem = ds.read(1)
        assert dem.min() > 0 and dem.max() < 4500 and dem.std() > 50  # Sierra Nevada foothills to crest
    # the centre of the region: bilinear value agrees with the source DEM sampled there
    with rasterio.open(out / "region.tif") as ds:
        centre = float(ds.read(1)[256, 256])
    with rasterio.open(SRTM) as src:
        raw = float(next(src.sample([(-119.5, 37.68)]))[0])
    assert abs(centre - raw) < 60


def test_bad_inputs_name_the_file_and_leave_no_output(tmp_path: Path) -> None:
    grid = region_grid("bad", "earth", 0.0, 0.0, 1, 1, tile_px=32)
    out = tmp_path / "out"
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"this is not a GeoTIFF")
    with pytest.raises(GeoError, match=r"broken\.tif: cannot read"):
        tile_region(broken, grid, out, "bilinear", 0.02)
    with pytest.raises(GeoError, match=r"missing\.tif: raster file does not exist"):
        tile_region(tmp_path / "missing.tif", grid, out, "bilinear", 0.02)
    far = write_raster(tmp_path / "far.tif", "EPSG:4326", 100.0, 10.0, 0.01, 50, 50, ramp(100.0, 10.0))
    with pytest.raises(GeoError, match=r"far\.tif: .*does not cover region 'bad'"):
        tile_region(far, grid, out, "bilinear", 0.02)
    mars = write_raster(tmp_path / "mars.tif", "IAU_2015:49900", -0.5, 0.5, 0.01, 100, 100, ramp(0.0, 0.0))
    with pytest.raises(GeoError, match=r"mars\.tif: raster is on mars"):
        tile_region(mars, grid, out, "bilinear", 0.02)
    assert not out.exists()
    out.mkdir()
    (out / "keep.txt").write_text("previous good output")
    with pytest.raises(GeoError):
        tile_region(far, grid, out, "bilinear", 0.02)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
