"""Assemble rendered regions into one global mosaic: Mars equirectangular, feathered overlaps, a COG.

Each region was rendered on its own AEQD grid. The mosaic is built one output block at a time, so a
planet never sits in memory: every region meeting the block is reprojected into it (rasterio/GDAL warp)
and weighted by its distance to the region's valid edge, capped at the feather width. Where regions
overlap, the normalised weights fade one into the other over that width; away from any edge a region's
weight is flat, so it is reproduced as rendered.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import rasterio
from rasterio.enums import ColorInterp, Resampling
from rasterio.transform import Affine
from rasterio.warp import reproject
from rasterio.windows import Window
from scipy.ndimage import distance_transform_edt

from areograph.geo.crs import MARS_EQUIRECTANGULAR, geographic_crs, mean_radius_m
from areograph.geo.geotiff import geotiff_to_cog
from areograph.geo.grid import unwrap_lon
from areograph.geo.planet import lon_lat_overlap
from areograph.render.windows import _grid

log = logging.getLogger("areograph.render")

BLOCK_PX = 2048


def windows_per_region(side_px: int, window_px: int, overlap_px: int) -> int:
    """Model windows the render of one square region of ``side_px`` runs (render/windows.py's grid)."""
    stride = window_px - overlap_px
    return len(_grid(side_px, window_px, stride, overlap_px // 2)[2]) ** 2


@dataclass(frozen=True)
class RegionFootprint:
    """A rendered region file and its lon/lat box (west may be < -180 or east > 180 across the date line)."""

    path: Path
    west: float
    south: float
    east: float
    north: float


def outline(
    left: float, bottom: float, right: float, top: float, densify: int
) -> tuple[np.ndarray, np.ndarray]:
    """x, y of ``densify`` points along each side of a rectangle (south, north, west, east sides)."""
    t = np.linspace(0.0, 1.0, densify)
    xs = np.concatenate([left + t * (right - left)] * 2 + [np.full_like(t, left), np.full_like(t, right)])
    ys = np.concatenate([np.full_like(t, bottom), np.full_like(t, top)] + [bottom + t * (top - bottom)] * 2)
    return xs, ys


def region_footprint(path: Path, densify: int = 64) -> RegionFootprint:
    """The lon/lat box of a rendered region raster, from its densified outline (all longitudes at a pole)."""
    with rasterio.open(path) as src:
        crs, (left, bottom, right, top) = pyproj.CRS(src.crs.to_wkt()), src.bounds
    to_ll = pyproj.Transformer.from_crs(crs, geographic_crs("mars"), always_xy=True)
    lons, lats = to_ll.transform(*outline(left, bottom, right, top, densify))
    centre_lon, _ = to_ll.transform((left + right) / 2, (bottom + top) / 2)
    lons = unwrap_lon(lons, centre_lon)
    south, north = float(np.min(lats)), float(np.max(lats))
    for pole in (-90.0, 90.0):  # a cap contains its pole: every longitude, up to the pole
        px, py = pyproj.Transformer.from_crs(geographic_crs("mars"), crs, always_xy=True).transform(0.0, pole)
        if left <= px <= right and bottom <= py <= top:
            return RegionFootprint(path, -180.0, min(south, pole), 180.0, max(north, pole))
    return RegionFootprint(path, float(np.min(lons)), south, float(np.max(lons)), north)


def mosaic_grid(footprints: Sequence[RegionFootprint], gsd_m: float) -> tuple[Affine, int, int]:
    """Transform and size of the equirectangular mosaic covering every footprint (the planet at most)."""
    radius = mean_radius_m("mars")
    deg_m = math.pi * radius / 180.0
    west, east = min(f.west for f in footprints), max(f.east for f in footprints)
    if west < -180.0 or east > 180.0:  # a region crosses the date line: the mosaic spans every longitude
        west, east = -180.0, 180.0
    south, north = min(f.south for f in footprints), max(f.north for f in footprints)
    # Snap to the planet-wide pixel grid anchored at (-180, 90), so partial mosaics line up with the whole.
    x0 = -math.pi * radius + math.floor((west + 180.0) * deg_m / gsd_m) * gsd_m
    x1 = -math.pi * radius + math.ceil((east + 180.0) * deg_m / gsd_m) * gsd_m
    y0 = math.pi * radius / 2 - math.floor((90.0 - north) * deg_m / gsd_m) * gsd_m
    y1 = math.pi * radius / 2 - math.ceil((90.0 - south) * deg_m / gsd_m) * gsd_m
    width, height = round((x1 - x0) / gsd_m), round((y0 - y1) / gsd_m)
    return Affine(gsd_m, 0.0, x0, 0.0, -gsd_m, y0), width, height


def _block_lonlat(transform: Affine, win: Window) -> tuple[float, float, float, float]:
    deg_m = math.pi * mean_radius_m("mars") / 180.0
    x0, y0 = transform @ (win.col_off, win.row_off)
    x1, y1 = transform @ (win.col_off + win.width, win.row_off + win.height)
    return x0 / deg_m, y1 / deg_m, x1 / deg_m, y0 / deg_m


def _warp_region(path: Path, dst_transform: Affine, shape: tuple[int, int], dst_crs: str):
    """A region's RGB (float32) and validity reprojected onto a destination grid of ``shape``."""
    with rasterio.open(path) as src:
        step = max(1, int(abs(dst_transform.a) // abs(src.transform.a)))  # read coarse when the mosaic is
        out_shape = (max(1, src.height // step), max(1, src.width // step))
        rgb = src.read([1, 2, 3], out_shape=(3, *out_shape), resampling=Resampling.average).astype(np.float32)
        mask = src.read_masks(1, out_shape=out_shape, resampling=Resampling.nearest)
        src_transform = src.transform @ Affine.scale(src.width / out_shape[1], src.height / out_shape[0])
        src_crs = src.crs
    dst = np.zeros((3, *shape), np.float32)
    valid = np.zeros(shape, np.uint8)
    common = {
        "src_transform": src_transform,
        "src_crs": src_crs,
        "dst_transform": dst_transform,
        "dst_crs": dst_crs,
    }
    reproject(rgb, dst, resampling=Resampling.bilinear, **common)
    reproject((mask > 0).astype(np.uint8), valid, resampling=Resampling.nearest, **common)
    return dst, valid.astype(bool)


def assemble_planet(
    region_tifs: Sequence[str | Path],
    out_path: str | Path,
    gsd_m: float,
    feather_m: float,
    block_px: int = BLOCK_PX,
) -> dict:
    """Mosaic rendered region GeoTIFFs into one feathered COG in ``IAU_2015:49910`` at ``gsd_m``."""
    if not region_tifs:
        raise ValueError("no rendered regions to assemble")
    footprints = [region_footprint(Path(p)) for p in region_tifs]
    transform, width, height = mosaic_grid(footprints, gsd_m)
    feather_px = max(1, round(feather_m / gsd_m))
    crs = rasterio.crs.CRS.from_wkt(pyproj.CRS(MARS_EQUIRECTANGULAR).to_wkt())
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 3,
        "dtype": "uint8",
        "crs": crs,
        "transform": transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "photometric": "RGB",
        "BIGTIFF": "IF_SAFER",
    }
    covered = 0
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent) as tmp:
        staged = Path(tmp) / "staged.tif"
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(staged, "w", **profile) as dst:
            for row in range(0, height, block_px):
                for col in range(0, width, block_px):
                    win = Window(col, row, min(block_px, width - col), min(block_px, height - row))
                    rgb, valid = _assemble_block(footprints, transform, win, feather_px, crs)
                    dst.write(rgb, window=win)
                    dst.write_mask(np.where(valid, 255, 0).astype(np.uint8), window=win)
                    covered += int(valid.sum())
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
            dst.update_tags(
                AREOGRAPH_PRODUCT="terraformed Mars, global mosaic", AREOGRAPH_REGIONS=str(len(footprints))
            )
        geotiff_to_cog(staged, out_path)
    summary = {
        "width": width,
        "height": height,
        "regions": len(footprints),
        "gsd_m": gsd_m,
        "feather_px": feather_px,
        "valid_fraction": covered / (width * height),
    }
    log.info("assembled %s: %s", out_path, summary)
    return summary


def _assemble_block(
    footprints: Sequence[RegionFootprint], transform: Affine, win: Window, feather_px: int, crs
) -> tuple[np.ndarray, np.ndarray]:
    """One output block: the feathered, normalised mean of the regions meeting it (uint8 RGB, validity)."""
    pad = feather_px  # distances within the block are exact up to the feather width
    padded = Window(win.col_off - pad, win.row_off - pad, win.width + 2 * pad, win.height + 2 * pad)
    box = _block_lonlat(transform, padded)
    shape = (int(padded.height), int(padded.width))
    block_transform = transform @ Affine.translation(padded.col_off, padded.row_off)
    acc = np.zeros((3, *shape), np.float32)
    weight_sum = np.zeros(shape, np.float32)
    for fp in footprints:
        if not lon_lat_overlap((fp.west, fp.south, fp.east, fp.north), box):
            continue
        rgb, valid = _warp_region(fp.path, block_transform, shape, crs)
        if not valid.any():
            continue
        weight = np.minimum(distance_transform_edt(valid), feather_px).astype(np.float32) / feather_px
        acc += rgb * weight
        weight_sum += weight
    inner = (slice(pad, pad + int(win.height)), slice(pad, pad + int(win.width)))
    acc, weight_sum = acc[:, inner[0], inner[1]], weight_sum[inner]
    valid = weight_sum > 0
    rgb = np.where(valid, acc / np.where(valid, weight_sum, 1.0), 0.0)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8), valid
