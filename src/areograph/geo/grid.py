"""Region grids of square tiles, and the Haversine planning of the lon/lat box to download for them.

A region is ``cols`` x ``rows`` tiles of ``tile_px`` pixels at ``gsd_m`` metres, laid out in an
azimuthal equidistant (AEQD) grid centred on the region (see :mod:`areograph.geo.crs`). Row 0 is the
northernmost row. Longitudes are east-positive and may be given as 0..360 or -180..180 (Mars): the
lon/lat outputs (download box, footprints) are expressed around the longitude as given.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
import pyproj
from rasterio.transform import Affine
from rasterio.windows import Window

from areograph.artefacts.types import BBox
from areograph.geo.crs import check_planet, geographic_crs, local_aeqd_crs, planning_radius_m

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_region_name(name: str) -> str:
    """A region name usable as a file and folder name; checked before any folder is made for it."""
    if not _NAME_RE.match(name):
        raise ValueError(
            f"region name {name!r} must start with a letter or digit and hold only letters, digits, "
            "'_', '-' or '.' (it names the output folder and files)"
        )
    return name


def haversine_m(lon1, lat1, lon2, lat2, radius_m: float) -> float | np.ndarray:
    """Great-circle distance in metres between lon/lat points (degrees) on a sphere of ``radius_m``.

    The one Haversine formula of the project; it is well conditioned for the short distances we plan
    with (unlike the spherical law of cosines). Accepts scalars or broadcastable arrays.
    """
    lam1, phi1, lam2, phi2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    h = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    d = 2 * radius_m * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def _parallel_half_span_deg(ground_m: float, lat_deg: float, radius_m: float) -> float:
    """Longitude half-span covering ``ground_m`` either side of a meridian at latitude ``lat_deg``.

    Inverse Haversine along the parallel: hav(d/R) = cos^2(lat) hav(dlon). A point at *cross-track*
    distance d from the meridian lies slightly further in longitude (sin dlon = sin(d/R) / cos lat),
    and an AEQD square's corners are such points, so the larger of the two is returned.
    """
    c = math.cos(math.radians(lat_deg))
    s_par = math.sin(ground_m / (2 * radius_m)) / c
    s_xt = math.sin(min(ground_m / radius_m, math.pi / 2)) / c
    if s_par >= 1 or s_xt >= 1 or ground_m >= radius_m * math.pi / 2:
        raise ValueError(f"{ground_m / 1000:.0f} km either side of latitude {lat_deg:.2f} pass the pole")
    return math.degrees(max(2 * math.asin(s_par), math.asin(s_xt)))


def _aeqd_lat_deg(x: float, y: float, lat0: float, radius_m: float) -> float:
    """Latitude of the AEQD point (x, y) on a sphere: distance hypot(x, y) at azimuth atan2(x, y)."""
    rho = math.hypot(x, y)
    if rho == 0:
        return lat0
    delta, phi0 = rho / radius_m, math.radians(lat0)
    s = math.sin(phi0) * math.cos(delta) + math.cos(phi0) * math.sin(delta) * (y / rho)
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))


def plan_download_box(
    planet: str, lon: float, lat: float, width_m: float, height_m: float, margin_m: float
) -> BBox:
    """The lon/lat box to request so that a ``width_m`` x ``height_m`` AEQD region fits inside it.

    Latitude: half the height along the central meridian (exact in AEQD), widened to the region's
    equatorward corners, which sit further from the pole than its edge midpoint. Longitude: the ground
    half-width at the most poleward latitude of the box (inverse Haversine along the parallel, see
    :func:`_parallel_half_span_deg`). Both get ``margin_m`` of ground. The sphere is the planet's
    planning radius (on Earth the smallest WGS84 curvature radius), so the box never undershoots.
    """
    check_planet(planet)
    if width_m <= 0 or height_m <= 0 or margin_m < 0:
        raise ValueError(f"region size {width_m} x {height_m} m and margin {margin_m} m must be positive")
    radius = planning_radius_m(planet)
    if math.hypot(width_m, height_m) / 2 + margin_m >= radius * math.pi / 2:  # AEQD wraps beyond this
        raise ValueError(
            f"{width_m / 1000:.0f} x {height_m / 1000:.0f} km reach more than a quarter of the way around "
            "the planet from their centre"
        )
    if abs(lat) == 90:  # a polar cap: every longitude, down to the latitude of its corners
        reach = math.degrees((math.hypot(width_m, height_m) / 2 + margin_m) / radius)
        south, north = (-90.0, -90.0 + reach) if lat < 0 else (90.0 - reach, 90.0)
        return BBox(west=lon - 180.0, south=south, east=lon + 180.0, north=north)
    hw, hh = width_m / 2, height_m / 2
    lats = [_aeqd_lat_deg(x, y, lat, radius) for x in (-hw, 0.0, hw) for y in (-hh, hh)]
    dlat_margin = math.degrees(margin_m / radius)
    south, north = min(lats) - dlat_margin, max(lats) + dlat_margin
    if north >= 90 or south <= -90:
        raise ValueError(
            f"{width_m / 1000:.0f} x {height_m / 1000:.0f} km at latitude {lat:.2f} reaches a pole"
        )
    dlon = _parallel_half_span_deg(hw + margin_m, max(abs(south), abs(north)), radius)
    return BBox(west=lon - dlon, south=south, east=lon + dlon, north=north)


def unwrap_lon(lon, ref: float):
    """Shift longitudes by multiples of 360 to lie within 180 degrees of ``ref``."""
    return ref + (np.asarray(lon, dtype=float) - ref + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class RegionGrid:
    """A region of ``cols`` x ``rows`` square tiles in an AEQD grid centred on (lon, lat)."""

    name: str
    planet: str
    lon: float
    lat: float
    cols: int
    rows: int
    tile_px: int = 256
    gsd_m: float = 200.0

    def __post_init__(self) -> None:
        check_planet(self.planet)
        check_region_name(self.name)
        if min(self.cols, self.rows, self.tile_px) < 1 or self.gsd_m <= 0:
            raise ValueError(f"region {self.name!r}: cols, rows, tile_px and gsd_m must be positive")
        if not -90 <= self.lat <= 90:  # a polar cap is centred on its pole
            raise ValueError(f"region {self.name!r}: latitude {self.lat} out of range")

    @property
    def crs(self) -> pyproj.CRS:
        """The region's AEQD CRS (centre at (0, 0) metres)."""
        return local_aeqd_crs(self.planet, self.lon, self.lat)

    @property
    def width(self) -> int:
        """Region width in pixels."""
        return self.cols * self.tile_px

    @property
    def height(self) -> int:
        """Region height in pixels."""
        return self.rows * self.tile_px

    @property
    def tile_m(self) -> float:
        """Tile side on the ground in metres (256 px x 200 m = 51.2 km)."""
        return self.tile_px * self.gsd_m

    @property
    def transform(self) -> Affine:
        """North-up affine transform, top-left origin, with the region centre at AEQD (0, 0)."""
        return Affine(
            self.gsd_m, 0.0, -self.width * self.gsd_m / 2, 0.0, -self.gsd_m, self.height * self.gsd_m / 2
        )

    def _check(self, row: int, col: int) -> None:
        if not (0 <= row < self.rows and 0 <= col < self.cols):
            raise IndexError(f"tile ({row}, {col}) outside region {self.name!r} of {self.rows} x {self.cols}")

    def tile_id(self, row: int, col: int) -> str:
        """Stable tile name, row 0 = north: ``<name>_r<row>_c<col>``."""
        self._check(row, col)
        return f"{self.name}_r{row:02d}_c{col:02d}"

    def tiles(self) -> list[tuple[int, int]]:
        """All (row, col) pairs in row-major order."""
        return [(r, c) for r in range(self.rows) for c in range(self.cols)]

    def tile_ids(self) -> list[str]:
        """All tile ids in row-major order."""
        return [self.tile_id(r, c) for r, c in self.tiles()]

    def tile_window(self, row: int, col: int) -> Window:
        """The tile's pixel window within the region raster."""
        self._check(row, col)
        return Window(col * self.tile_px, row * self.tile_px, self.tile_px, self.tile_px)

    def tile_transform(self, row: int, col: int) -> Affine:
        """The affine transform of the tile on its own."""
        self._check(row, col)
        return self.transform @ Affine.translation(col * self.tile_px, row * self.tile_px)

    @functools.cached_property
    def _to_lonlat(self) -> pyproj.Transformer:
        return pyproj.Transformer.from_crs(self.crs, geographic_crs(self.planet), always_xy=True)

    def ring_lonlat(self, x0: float, y0: float, x1: float, y1: float, densify: int = 16) -> list[tuple]:
        """Closed counter-clockwise lon/lat ring of the AEQD rectangle [x0, x1] x [y0, y1].

        ``densify`` points per side, since straight AEQD edges are curves in lon/lat; corners are at
        indices 0 (NW), densify (SW), 2 densify (SE), 3 densify (NE).
        """
        if densify < 1:
            raise ValueError("densify must be >= 1")
        t = np.arange(densify) / densify
        dx, dy = (x1 - x0) * t, (y1 - y0) * t
        xs = np.concatenate([np.full(densify, x0), x0 + dx, np.full(densify, x1), x1 - dx])
        ys = np.concatenate([y1 - dy, np.full(densify, y0), y0 + dy, np.full(densify, y1)])
        lons, lats = self._to_lonlat.transform(xs, ys, errcheck=True)
        lons = unwrap_lon(lons, self.lon)
        ring = [(float(a), float(b)) for a, b in zip(lons, lats, strict=True)]
        return [*ring, ring[0]]

    def tile_footprint_lonlat(self, row: int, col: int, densify: int = 16) -> list[tuple[float, float]]:
        """The tile's outline in the planet's lon/lat (closed, counter-clockwise, GeoJSON-ready)."""
        left, top = self.tile_transform(row, col) @ (0, 0)
        side = self.tile_m
        return self.ring_lonlat(left, top - side, left + side, top, densify)

    def footprint_lonlat(self, densify: int = 64) -> list[tuple[float, float]]:
        """The whole region's outline in lon/lat."""
        w, h = self.width * self.gsd_m / 2, self.height * self.gsd_m / 2
        return self.ring_lonlat(-w, -h, w, h, densify)

    def download_box(self, margin_m: float) -> BBox:
        """The lon/lat box to download for this region (see :func:`plan_download_box`)."""
        return plan_download_box(
            self.planet, self.lon, self.lat, self.width * self.gsd_m, self.height * self.gsd_m, margin_m
        )


def region_grid(
    name: str,
    planet: str,
    lon: float,
    lat: float,
    cols: int,
    rows: int,
    tile_px: int = 256,
    gsd_m: float = 200.0,
) -> RegionGrid:
    """Build a :class:`RegionGrid` (``cols`` tiles east-west by ``rows`` north-south)."""
    return RegionGrid(
        name=name,
        planet=planet,
        lon=float(lon),
        lat=float(lat),
        cols=int(cols),
        rows=int(rows),
        tile_px=int(tile_px),
        gsd_m=float(gsd_m),
    )
