"""Reproject a region's source raster once into its AEQD grid, then cut it into square tiles.

Reprojecting the whole region once (rather than each tile on its own) resamples every pixel exactly
once and makes neighbouring tiles agree at their shared edges. Pixels the source does not cover, or
where it declares nodata, are marked invalid by an internal mask band (and the nodata value when the
source has one); tiles with too many of them are dropped, the few invalid pixels of a kept tile are
filled so that no black borders reach training.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyproj
import rasterio
from rasterio.crs import CRS as RioCRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import RasterioError, RasterioIOError, WindowError
from rasterio.fill import fillnodata
from rasterio.transform import Affine
from rasterio.warp import reproject
from rasterio.windows import Window, from_bounds

from areograph.artefacts.tileset import INDEX_NAME, REGION_NAME, WATER, tile_name
from areograph.artefacts.types import GeoError
from areograph.atomic import atomic_dir, atomic_path
from areograph.geo.crs import crs_planet
from areograph.geo.geotiff import write_geotiff
from areograph.geo.grid import RegionGrid, unwrap_lon

log = logging.getLogger("areograph.geo")

# DEMs: bilinear; imagery: an anti-aliasing filter (average or lanczos) since we usually downsample.
RESAMPLING: dict[str, Resampling] = {
    "nearest": Resampling.nearest,
    "bilinear": Resampling.bilinear,
    "cubic": Resampling.cubic,
    "average": Resampling.average,
    "lanczos": Resampling.lanczos,
}
# Default of tiles.max_dropped_fraction: a region may lose at most half its tiles to missing coverage.
MAX_DROPPED_FRACTION = 0.5


@dataclass
class TileReport:
    """What :func:`cut_tiles` did: the ids it wrote and the ids it dropped (id -> nodata fraction)."""

    region: str
    kept: list[str] = field(default_factory=list)
    dropped: dict[str, float] = field(default_factory=dict)

    @property
    def n_tiles(self) -> int:
        """Number of tiles in the region grid (kept + dropped)."""
        return len(self.kept) + len(self.dropped)


def _open(path: Path) -> rasterio.DatasetReader:
    path = Path(path)
    if not path.is_file():
        raise GeoError(f"{path}: raster file does not exist")
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise GeoError(f"{path}: cannot read as a raster: {exc}") from exc


@contextlib.contextmanager
def _named_read_errors(path: Path) -> Iterator[None]:
    """GDAL read failures (a truncated or corrupt file whose header is intact) as a GeoError naming it."""
    try:
        yield
    except RasterioError as exc:
        raise GeoError(f"{path}: cannot read the raster's pixels (truncated or corrupt?): {exc}") from exc


def _resampling(name: str) -> Resampling:
    try:
        return RESAMPLING[name]
    except KeyError:
        raise ValueError(f"unknown resampling {name!r}; expected one of {sorted(RESAMPLING)}") from None


def _rio_crs(crs: pyproj.CRS) -> RioCRS:
    return RioCRS.from_wkt(crs.to_wkt())


def _source_window(src: rasterio.DatasetReader, src_crs: pyproj.CRS, grid: RegionGrid) -> Window:
    """The source pixels the region needs, padded for the resampling kernel; error if there are none."""
    xs, ys = (np.array(v) for v in zip(*grid.footprint_lonlat(densify=64), strict=True))
    if not src_crs.is_geographic:
        to_src = pyproj.Transformer.from_crs(grid.crs.geodetic_crs, src_crs, always_xy=True)
        try:
            xs, ys = to_src.transform(xs, ys, errcheck=True)
        except pyproj.exceptions.ProjError as exc:
            raise GeoError(f"{src.name}: region {grid.name!r} cannot be expressed in its CRS: {exc}") from exc
    else:  # footprint is already lon/lat on the planet; express it around the source's longitudes
        xs = unwrap_lon(xs, (src.bounds.left + src.bounds.right) / 2)
    try:
        win = from_bounds(xs.min(), ys.min(), xs.max(), ys.max(), src.transform)
    except WindowError as exc:
        raise GeoError(f"{src.name}: cannot place region {grid.name!r} in this raster: {exc}") from exc
    ratio = max(abs(win.width) / grid.width, abs(win.height) / grid.height, 1.0)
    pad = math.ceil(3 * ratio) + 2  # covers the widest kernel (lanczos, 3 lobes) when downsampling
    col0, row0 = math.floor(win.col_off) - pad, math.floor(win.row_off) - pad
    col1 = math.ceil(win.col_off + win.width) + pad
    row1 = math.ceil(win.row_off + win.height) + pad
    c0, r0, c1, r1 = max(col0, 0), max(row0, 0), min(col1, src.width), min(row1, src.height)
    if c1 <= c0 or r1 <= r0:
        need = f"x {xs.min():.4f}..{xs.max():.4f}, y {ys.min():.4f}..{ys.max():.4f}"
        raise GeoError(
            f"{src.name}: raster (bounds {tuple(src.bounds)}) does not cover region "
            f"{grid.name!r} at all (it needs {need})"
        )
    return Window(c0, r0, c1 - c0, r1 - r0)


def _to_dtype(values: np.ndarray, dtype: np.dtype, fill: float) -> np.ndarray:
    """Cast resampled floats back to the source dtype (round and clip integers); NaN -> ``fill``."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    return np.where(np.isnan(values), fill, values).astype(dtype)


def reproject_to_grid(src_path: Path, grid: RegionGrid, out_path: Path, resampling: str) -> Path:
    """Reproject the part of ``src_path`` under the region into the region's grid, once, as a GeoTIFF.

    Any source CRS on the grid's planet works (EPSG:4326, IAU_2015:49900 with 0..360 or -180..180
    longitudes, projected Mars CRSs). The dtype is kept; invalid pixels (outside the source or source
    nodata) are excluded from the resampling kernels and flagged in an internal mask band (and set to
    the source nodata value when it has one). Raises GeoError naming the file on bad input.
    """
    method = _resampling(resampling)
    src_path = Path(src_path)
    with _open(src_path) as src, _named_read_errors(src_path):
        if src.crs is None:
            raise GeoError(f"{src_path}: raster has no CRS")
        src_crs = pyproj.CRS(src.crs.to_wkt())
        try:
            planet = crs_planet(src_crs)
        except ValueError as exc:
            raise GeoError(f"{src_path}: {exc}") from exc
        if planet != grid.planet:
            raise GeoError(f"{src_path}: raster is on {planet}, region {grid.name!r} is on {grid.planet}")
        win = _source_window(src, src_crs, grid)
        bands = [i for i, ci in zip(src.indexes, src.colorinterp, strict=True) if ci != ColorInterp.alpha]
        if not bands:
            raise GeoError(f"{src_path}: raster has no data band (only alpha)")
        dtype = np.dtype(src.dtypes[bands[0] - 1])
        work = np.float64 if dtype == np.float64 else np.float32
        valid_src = src.dataset_mask(window=win) > 0
        src_transform = src.transform @ Affine.translation(win.col_off, win.row_off)
        nodata = src.nodata
        colorinterp = [src.colorinterp[i - 1] for i in bands]
        tags = src.tags()
        out = np.empty((len(bands), grid.height, grid.width), dtype=dtype)
        valid = np.ones((grid.height, grid.width), dtype=bool)
        for k, band in enumerate(bands):
            values = src.read(band, window=win).astype(work)
            values[~valid_src] = np.nan
            dst = np.full((grid.height, grid.width), np.nan, dtype=work)
            reproject(
                values,
                dst,
                src_transform=src_transform,
                src_crs=src.crs,
                src_nodata=np.nan,
                dst_transform=grid.transform,
                dst_crs=_rio_crs(grid.crs),
                dst_nodata=np.nan,
                resampling=method,
            )
            valid &= ~np.isnan(dst)
            out[k] = _to_dtype(dst, dtype, nodata if nodata is not None and np.isfinite(nodata) else 0)
    if not valid.any():
        raise GeoError(f"{src_path}: raster has no valid pixel inside region {grid.name!r}")
    if nodata is not None:
        out[:, ~valid] = np.asarray(nodata).astype(dtype)
    _write_raster(
        out_path,
        out,
        grid,
        grid.transform,
        nodata,
        colorinterp,
        valid,
        tags | {"AREOGRAPH_SOURCE_FILE": src_path.name, "AREOGRAPH_RESAMPLING": resampling},
    )
    return out_path


def _write_raster(
    path: Path,
    data: np.ndarray,
    grid: RegionGrid,
    transform,
    nodata,
    colorinterp,
    valid: np.ndarray | None,
    tags: dict,
) -> None:
    """Write ``data`` as a compressed GeoTIFF in the grid's CRS, atomically, with an optional mask."""
    count, height, width = data.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": data.dtype.name,
        "crs": _rio_crs(grid.crs),
        "transform": transform,
        "nodata": nodata,
        "compress": "deflate",
    }
    if min(width, height) >= 256:
        profile |= {"tiled": True, "blockxsize": 256, "blockysize": 256}
    write_geotiff(path, data, profile, valid, tags, colorinterp)


def _same_grid(ds: rasterio.DatasetReader, grid: RegionGrid) -> str | None:
    """Why the raster does not lie on ``grid`` (None if it does)."""
    if (ds.width, ds.height) != (grid.width, grid.height):
        return f"size {ds.width} x {ds.height} px, grid is {grid.width} x {grid.height}"
    if not ds.transform.almost_equals(grid.transform, precision=1e-6 * grid.gsd_m):
        return f"transform {tuple(ds.transform)[:6]} differs from the grid's {tuple(grid.transform)[:6]}"
    if ds.crs is None:
        return "no CRS"
    crs = pyproj.CRS(ds.crs.to_wkt())
    probe = ([0.0, grid.tile_m, -grid.tile_m], [0.0, grid.tile_m, 0.0])
    ours = pyproj.Transformer.from_crs(grid.crs, grid.crs.geodetic_crs, always_xy=True).transform(*probe)
    try:
        theirs = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(*probe)
    except pyproj.exceptions.ProjError as exc:
        return f"CRS cannot be used: {exc}"
    try:
        planet = crs_planet(crs)
    except ValueError as exc:
        return str(exc)
    if planet != grid.planet or not np.allclose(ours, theirs, atol=1e-7):
        return f"CRS {ds.crs.to_string()!r} is not the grid's AEQD CRS"
    return None


def _tile_feature(grid: RegionGrid, row: int, col: int, fraction: float, kept: bool) -> dict:
    ring = [[round(lon, 7), round(lat, 7)] for lon, lat in grid.tile_footprint_lonlat(row, col)]
    tile_id = grid.tile_id(row, col)
    return {
        "type": "Feature",
        "id": tile_id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "tile_id": tile_id,
            "region": grid.name,
            "planet": grid.planet,
            "row": row,
            "col": col,
            "nodata_fraction": round(fraction, 6),
            "kept": kept,
            "file": tile_name(tile_id) if kept else None,
        },
    }


def _write_tiles(
    region_raster: Path,
    grid: RegionGrid,
    out_dir: Path,
    max_nodata_fraction: float,
    max_dropped_fraction: float = MAX_DROPPED_FRACTION,
) -> TileReport:
    """Cut ``region_raster`` into tiles inside ``out_dir`` (not atomic on its own)."""
    limits = {"max_nodata_fraction": max_nodata_fraction, "max_dropped_fraction": max_dropped_fraction}
    for name, value in limits.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} {value} must be within [0, 1]")
    report, features = TileReport(region=grid.name), []
    with _open(region_raster) as ds:
        problem = _same_grid(ds, grid)
        if problem:
            raise GeoError(f"{region_raster}: not on the grid of region {grid.name!r}: {problem}")
        colorinterp, nodata = list(ds.colorinterp), ds.nodata
        for row, col in grid.tiles():
            win, tile_id = grid.tile_window(row, col), grid.tile_id(row, col)
            with _named_read_errors(region_raster):
                valid = ds.dataset_mask(window=win) > 0
            fraction = float(1.0 - valid.mean())
            keep = fraction <= max_nodata_fraction and valid.any()
            features.append(_tile_feature(grid, row, col, fraction, bool(keep)))
            if not keep:
                report.dropped[tile_id] = fraction
                continue
            with _named_read_errors(region_raster):
                data = ds.read(window=win)
            if not valid.all():
                search = float(2 * grid.tile_px)
                data = np.stack(
                    [fillnodata(b, mask=valid.astype(np.uint8), max_search_distance=search) for b in data]
                ).astype(data.dtype)
            _write_raster(
                out_dir / tile_name(tile_id),
                data,
                grid,
                grid.tile_transform(row, col),
                nodata,
                colorinterp,
                None,
                {"AREOGRAPH_TILE": tile_id, "AREOGRAPH_NODATA_FILLED": f"{fraction:.6f}"},
            )
            report.kept.append(tile_id)
    index = {
        "type": "FeatureCollection",
        "name": grid.name,
        "areograph_grid": {
            "region": grid.name,
            "planet": grid.planet,
            "lon": grid.lon,
            "lat": grid.lat,
            "cols": grid.cols,
            "rows": grid.rows,
            "tile_px": grid.tile_px,
            "gsd_m": grid.gsd_m,
            "crs": grid.crs.to_wkt(),
        },
        "features": features,
    }
    _check_coverage(report, max_dropped_fraction, max_nodata_fraction)
    with atomic_path(out_dir / INDEX_NAME) as tmp:
        tmp.write_text(json.dumps(index, indent=1))
    level = logging.WARNING if report.dropped else logging.INFO
    shown = [f"{k}: {v:.2f}" for k, v in list(report.dropped.items())[:3]]
    more = len(report.dropped) - len(shown)
    log.log(
        level,
        "region %s: kept %d of %d tiles, dropped %d with nodata fraction > %g%s",
        grid.name,
        len(report.kept),
        report.n_tiles,
        len(report.dropped),
        max_nodata_fraction,
        f" ({', '.join(shown)}{f' and {more} more' if more else ''})" if report.dropped else "",
    )
    return report


def _check_coverage(report: TileReport, max_dropped_fraction: float, max_nodata_fraction: float) -> None:
    """Refuse a region that lost more than ``max_dropped_fraction`` of its tiles (to missing coverage).

    A region that silently shrinks trains or renders less ground than asked for; a few lost tiles at a
    coast or a data gap are normal and only warned about (by the caller's log line).
    """
    lost = len(report.dropped) / report.n_tiles if report.n_tiles else 0.0
    if lost > max_dropped_fraction:
        raise GeoError(
            f"region {report.region!r}: {len(report.dropped)} of {report.n_tiles} tiles ({lost:.0%}) have "
            f"more than {max_nodata_fraction:g} nodata (the source does not cover them), above "
            f"tiles.max_dropped_fraction = {max_dropped_fraction:g}; move or shrink the region, use a "
            "source that covers it, or raise tiles.max_dropped_fraction"
        )


def cut_tiles(
    region_raster: Path,
    grid: RegionGrid,
    out_dir: Path,
    max_nodata_fraction: float,
    max_dropped_fraction: float = MAX_DROPPED_FRACTION,
) -> TileReport:
    """Write ``out_dir/<tile_id>.tif`` per kept tile and ``out_dir/index.geojson``, atomically.

    A tile with at most ``max_nodata_fraction`` invalid pixels is kept and its holes filled by
    inverse-distance interpolation (rasterio.fill.fillnodata); one with more is dropped, and the drops
    are counted in a warning of the ``areograph.geo`` log; more than ``max_dropped_fraction`` of the
    tiles dropped is a GeoError. The index lists every tile (kept or not) with its lon/lat footprint.
    If ``region_raster`` lives inside ``out_dir`` it is carried over.
    """
    region_raster, out_dir = Path(region_raster), Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        if region_raster.resolve().parent == out_dir.resolve() and region_raster.is_file():
            shutil.copy2(region_raster, tmp / region_raster.name)
        return _write_tiles(region_raster, grid, tmp, max_nodata_fraction, max_dropped_fraction)


SEA_LEVEL_M = 0


def fill_sea(region_raster: Path, sea_raster: Path, grid: RegionGrid) -> float:
    """Put the sea at 0 m and mark it valid in a region's elevation raster (in place); returns its share.

    Elevation sources have no heights over the sea (SRTM leaves it void), so without this every coastal
    tile would be dropped as nodata. ``sea_raster`` is the region's ``earth_water`` input (1 = sea), read
    onto the same grid; heights are then "above the local water level" everywhere. Not atomic on its
    own: call it on a raster inside an atomic folder.
    """
    region_raster = Path(region_raster)
    sea_grid = region_raster.with_name(f".sea-{region_raster.name}")
    try:
        reproject_to_grid(Path(sea_raster), grid, sea_grid, "average")
        with _open(sea_grid) as ds:
            sea = (ds.read(1) == WATER) & (ds.dataset_mask() > 0)
    finally:
        sea_grid.unlink(missing_ok=True)
    with _open(region_raster) as ds:
        data, valid = ds.read(), ds.dataset_mask() > 0
        nodata, colorinterp, tags = ds.nodata, list(ds.colorinterp), ds.tags()
    data[:, sea] = SEA_LEVEL_M
    share = float(sea.mean())
    _write_raster(
        region_raster,
        data,
        grid,
        grid.transform,
        nodata,
        colorinterp,
        valid | sea,
        tags | {"AREOGRAPH_SEA_FILLED": f"{share:.6f}", "AREOGRAPH_SEA_SOURCE": Path(sea_raster).name},
    )
    return share


def tile_region(
    src_path: Path,
    grid: RegionGrid,
    out_dir: Path,
    resampling: str,
    max_nodata_fraction: float,
    max_dropped_fraction: float = MAX_DROPPED_FRACTION,
    sea_raster: Path | None = None,
) -> TileReport:
    """Reproject ``src_path`` into ``grid`` (kept as ``out_dir/region.tif``) and cut it into tiles.

    ``sea_raster`` (an elevation layer's water input) sets the sea to 0 m first (:func:`fill_sea`), so
    coastal tiles are kept. Both steps write into one temporary folder swapped into place at the end,
    so a failure leaves no partial ``out_dir``.
    """
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        region = reproject_to_grid(src_path, grid, tmp / REGION_NAME, resampling)
        if sea_raster is not None:
            share = fill_sea(region, Path(sea_raster), grid)
            log.info("region %s: %.1f %% of the grid is sea, at %g m", grid.name, 100 * share, SEA_LEVEL_M)
        return _write_tiles(region, grid, tmp, max_nodata_fraction, max_dropped_fraction)
