"""Read the pixels under a lon/lat box from any raster, whatever its longitude convention.

Boxes arrive unwrapped around their region (a region at 179.5 E asks for 178..181 E), in whichever
convention the config used, and sources use -180..180 or 0..360. Clipping such a box at the raster's
edge silently loses the tiles beyond the antimeridian, and comparing it with the raster's bounds
unshifted gives a false "outside the extent". Here the box is moved by a multiple of 360 degrees into
the raster's longitude range; on a raster that spans the whole planet a box across its edge is read as
two windows and stitched into one, whose longitudes simply continue past the edge (GDAL and PROJ
accept 181 E). A box that no shift brings onto a raster is an error before any pixel is read.

Works for geographic rasters and for projections linear in longitude (the equirectangular global
mosaics), whose columns are evenly spaced in longitude; used by every raster adapter that cuts
windows out of a larger raster (``sample``, ``usgs``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyproj
import rasterio
from affine import Affine
from rasterio.errors import RasterioError
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from areograph.sources import BBox

_EPS = 1e-9


class RasterWindowError(ValueError):
    """The pixels under a box cannot be delivered; the message says why (and what to do)."""


class OutsideRaster(RasterWindowError):
    """The box does not overlap the raster under any 360-degree shift; the message says what to do."""


class UnreadableRaster(RasterWindowError):
    """The raster's header opened but its pixels cannot be read (a truncated or corrupt file)."""


@dataclass(frozen=True)
class LonRange:
    """The raster's longitude extent (degrees, in its own convention) and whether it spans the planet."""

    west: float
    east: float
    pixel_deg: float

    @property
    def is_global(self) -> bool:
        """True when the columns cover 360 degrees to within half a pixel (so its edges meet)."""
        return abs(self.east - self.west - 360.0) <= 0.5 * self.pixel_deg


def lon_range(src: rasterio.DatasetReader) -> LonRange:
    """The raster's longitude extent, from its bounds expressed in its own lon/lat datum."""
    crs = pyproj.CRS(src.crs.to_wkt())
    geo = crs.geodetic_crs or crs
    if crs.is_geographic:
        west, east = src.bounds.left, src.bounds.right
    else:
        west, _, east, _ = transform_bounds(src.crs, geo.to_wkt(), *src.bounds)
    return LonRange(float(west), float(east), (float(east) - float(west)) / src.width)


def lon_shift(box: BBox, lon_min: float, lon_max: float) -> float:
    """The multiple of 360 degrees that moves ``box`` into the longitude range [lon_min, lon_max].

    Prefers a shift that contains the whole box, then one that overlaps it most.
    """
    shifts = (0.0, -360.0, 360.0)
    for shift in shifts:
        if lon_min - _EPS <= box.west + shift and box.east + shift <= lon_max + _EPS:
            return shift

    def overlap(shift: float) -> float:
        return min(box.east + shift, lon_max) - max(box.west + shift, lon_min)

    best = max(shifts, key=overlap)
    return best if overlap(best) > 0 else 0.0


def centred_box(box: BBox) -> BBox:
    """The same box shifted by a multiple of 360 degrees so its centre lies in [-180, 180).

    For services that take a box in -180..180 longitudes (EPSG:4326 requests); a box across the
    antimeridian keeps its continuous span (e.g. 178..182), which such a request grid can express.
    """
    centre = (box.west + box.east) / 2
    shift = 360.0 * math.floor((centre + 180.0) / 360.0)
    return BBox(box.west - shift, box.south, box.east - shift, box.north) if shift else box


def lon_pieces(box: BBox, lons: LonRange, what: str = "raster") -> list[tuple[float, float]]:
    """West-to-east longitude intervals, each inside the raster's range, that together make up the box.

    One interval, clipped by the caller to the raster, unless the raster is global and the box
    crosses its edge: then two, the second continuing the first across the edge.
    """
    shift = lon_shift(box, lons.west, lons.east)
    west, east = box.west + shift, box.east + shift
    if east - west > 360.0:
        raise OutsideRaster(f"box {box} is wider than the planet")
    if min(east, lons.east) - max(west, lons.west) <= 0:
        raise OutsideRaster(
            f"requested box {box} lies outside the {what}'s longitudes {lons.west:.4f}..{lons.east:.4f} "
            "(also when shifted by 360 degrees); move the region onto the source's extent or use a "
            "source that covers it"
        )
    if not lons.is_global or (west >= lons.west - _EPS and east <= lons.east + _EPS):
        return [(west, east)]
    if west < lons.west:
        return [(west + 360.0, lons.east), (lons.west, east)]
    return [(west, lons.east), (lons.west, east - 360.0)]


def pixel_window(
    bounds: tuple[float, float, float, float], transform: Affine, width: int, height: int
) -> Window:
    """The smallest pixel window covering ``bounds`` (in the raster's CRS), clipped to the raster."""
    inv = ~transform
    x0, y0, x1, y1 = bounds
    cols, rows = zip(*(inv @ (x, y) for x in (x0, x1) for y in (y0, y1)), strict=True)
    c0 = max(0, math.floor(min(cols) + 1e-6))
    r0 = max(0, math.floor(min(rows) + 1e-6))
    c1 = min(width, math.ceil(max(cols) - 1e-6))
    r1 = min(height, math.ceil(max(rows) - 1e-6))
    if c1 <= c0 or r1 <= r0:
        raise OutsideRaster("window is empty")
    return Window(c0, r0, c1 - c0, r1 - r0)


def box_windows(src: rasterio.DatasetReader, box: BBox, what: str = "raster") -> list[Window]:
    """The pixel windows (west to east, sharing their rows) that hold ``box``; OutsideRaster if none."""
    crs = pyproj.CRS(src.crs.to_wkt())
    geo = (crs.geodetic_crs or crs).to_wkt()
    lons = lon_range(src)
    windows = []
    for west, east in lon_pieces(box, lons, what):
        bounds = transform_bounds(geo, src.crs, west, box.south, east, box.north, densify_pts=21)
        try:
            windows.append(pixel_window(bounds, src.transform, src.width, src.height))
        except OutsideRaster:
            continue  # a sliver thinner than a pixel at the edge
    if not windows:
        raise OutsideRaster(
            f"requested box {box} lies outside the {what} (longitudes {lons.west:.4f}..{lons.east:.4f}, "
            f"bounds {tuple(round(v, 4) for v in src.bounds)}); move the region onto the source's extent "
            "or use a source that covers it"
        )
    row0 = min(int(w.row_off) for w in windows)
    row1 = max(int(w.row_off + w.height) for w in windows)
    return [Window(w.col_off, row0, w.width, row1 - row0) for w in windows]


def read_box(
    src: rasterio.DatasetReader, box: BBox, indexes: int | list[int] | None = None, what: str = "raster"
) -> tuple[np.ndarray, Affine]:
    """The pixels under ``box`` (whole pixels, stitched across a global raster's edge), and their transform.

    Returns what ``src.read(indexes, window=...)`` returns for one window, and the transform of its
    top-left pixel; columns past the raster's edge continue the same grid.
    """
    windows = box_windows(src, box, what)
    try:
        parts = [src.read(indexes, window=w) for w in windows]
    except RasterioError as exc:
        problem = f"cannot read the {what}'s pixels (truncated or corrupt?): {exc}"
        raise UnreadableRaster(f"{src.name}: {problem}") from exc
    data = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
    return data, src.window_transform(windows[0])
