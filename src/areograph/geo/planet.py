"""Cover a whole planet with overlapping AEQD regions: latitude bands of regions plus two polar caps.

Each region is an ordinary square AEQD grid (:mod:`areograph.geo.grid`), so the existing per-region
rules fetch, tile and render it unchanged. Two numbers bound the plan:

- the distortion bound: AEQD is exact along lines through the centre, but stretches distances across
  them by ``c / sin(c)`` at angular distance ``c`` from the centre. A bound ``d`` on that stretch fixes
  the largest ``c``, hence the largest region (its corners are furthest from the centre);
- the overlap: every point of the planet lies at least ``overlap_m`` inside some region's square, so the
  assembly can feather neighbouring regions over that width instead of butting them at a seam.

Band regions are centred on the band's mid-latitude; their count per band follows from the band's
poleward circumference (checked by projecting the cell a region must cover into the region's own AEQD).
The caps are centred on the poles, where a band's regions would have to be infinitely many.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
from scipy.optimize import brentq

from areograph.geo.crs import geographic_crs, local_aeqd_crs, mean_radius_m

POLE_LAT = 90.0
_DENSIFY = 33  # points per cell edge when checking that a cell fits inside its region


def max_angular_radius(distortion_max: float) -> float:
    """Largest angular distance c (radians) from an AEQD centre with scale error c / sin(c) - 1 <= bound."""
    if not 0 < distortion_max < 0.5:
        raise ValueError(f"distortion_max {distortion_max} must be in (0, 0.5)")
    return float(brentq(lambda c: c / math.sin(c) - 1 - distortion_max, 1e-9, math.pi / 2))


def aeqd_scale_error(angular_radius: float) -> float:
    """The AEQD azimuthal scale error ``c / sin(c) - 1`` at angular distance ``c`` (radians)."""
    return angular_radius / math.sin(angular_radius) - 1 if angular_radius > 0 else 0.0


@dataclass(frozen=True)
class PlanetPlan:
    """The planned regions (ordinary region dicts) and the figures the plan was built from."""

    regions: list[dict]
    tiles_per_side: int
    region_side_m: float
    overlap_m: float
    bands: int
    cap_lat: float
    max_scale_error: float


def region_tiles(distortion_max: float, tile_m: float, radius_m: float, tiles_max: int | None = None) -> int:
    """Tiles per side of the largest square region whose corners stay within the distortion bound."""
    half_diagonal = max_angular_radius(distortion_max) * radius_m
    n = math.floor(half_diagonal * math.sqrt(2) / tile_m)
    if tiles_max is not None:
        n = min(n, tiles_max)
    if n < 1:
        raise ValueError(f"distortion_max {distortion_max} allows no {tile_m:.0f} m tile")
    return n


def _cell_fits(lon0: float, lat0: float, dlon: float, south: float, north: float, limit_m: float) -> bool:
    """Whether the lon/lat cell centred on lon0 lies within |x|, |y| <= limit_m of its region's AEQD."""
    t = np.linspace(0.0, 1.0, _DENSIFY)
    west, east = lon0 - dlon / 2, lon0 + dlon / 2
    lons = np.concatenate([west + t * dlon, west + t * dlon, np.full_like(t, west), np.full_like(t, east)])
    lats = np.concatenate(
        [
            np.full_like(t, south),
            np.full_like(t, north),
            south + t * (north - south),
            south + t * (north - south),
        ]
    )
    x, y = _to_aeqd(float(lat0)).transform(lons - lon0, lats)
    return bool(np.all(np.abs(x) <= limit_m) and np.all(np.abs(y) <= limit_m))


@functools.lru_cache(maxsize=64)
def _to_aeqd(lat0: float) -> pyproj.Transformer:
    """lon/lat -> the AEQD centred on (0, lat0): one transformer per band, reused while counting."""
    return pyproj.Transformer.from_crs(
        geographic_crs("mars"), local_aeqd_crs("mars", 0.0, lat0), always_xy=True
    )


def _band_count(lat0: float, south: float, north: float, limit_m: float, radius_m: float) -> int | None:
    """Fewest regions around a band so that each one's cell fits; None if none does (band too tall)."""
    poleward = max(abs(south), abs(north))
    first = max(1, math.ceil(2 * math.pi * radius_m * math.cos(math.radians(poleward)) / (2 * limit_m)))
    for n in range(first, 4 * first + 8):
        if _cell_fits(0.0, lat0, 360.0 / n, south, north, limit_m):
            return n
    return None


def plan_planet(
    distortion_max: float,
    overlap_m: float,
    tile_px: int,
    gsd_m: float,
    tiles_max: int | None = None,
    extent: Sequence[float] | None = None,
    prefix: str = "planet",
) -> PlanetPlan:
    """Regions covering Mars (or the part of the plan meeting ``extent`` = [west, south, east, north]).

    Every point lies ``overlap_m`` or more inside at least one region's square. Region names are
    ``<prefix>_b<band>_<index>`` (bands numbered south to north) and ``<prefix>_south`` / ``_north``.
    """
    radius = mean_radius_m("mars")
    tile_m = tile_px * gsd_m
    n_tiles = region_tiles(distortion_max, tile_m, radius, tiles_max)
    half = n_tiles * tile_m / 2
    limit = half - overlap_m
    if limit <= 0:
        raise ValueError(
            f"planet.overlap_km: {overlap_m / 1000:g} km leaves nothing of a {2 * half / 1000:g} km region"
        )
    # A cap centred on a pole covers its inscribed circle less the overlap: |lat| >= cap_lat.
    cap_lat = POLE_LAT - math.degrees(limit / radius)
    bands = max(1, math.ceil(2 * cap_lat / math.degrees(2 * limit / radius)))
    while True:
        edges = np.linspace(-cap_lat, cap_lat, bands + 1)
        counts = [  # only the bands the plan keeps (all of them without an extent) need counting
            _band_count((s + n) / 2, s, n, limit, radius) if _in_lat(s, n, extent) else 0
            for s, n in itertools.pairwise(edges)
        ]
        if all(c is not None for c in counts):
            break
        bands += 1
    regions: list[dict] = []

    def add(name: str, lon: float, lat: float, cell: tuple[float, float, float, float]) -> None:
        if extent is None or lon_lat_overlap(cell, extent):
            regions.append(
                {
                    "name": name,
                    "planet": "mars",
                    "lon": round(lon, 6),
                    "lat": round(float(lat), 6),
                    "tiles_per_side": n_tiles,
                    "split": "render",
                }
            )

    add(f"{prefix}_south", 0.0, -POLE_LAT, (-180.0, -90.0, 180.0, -cap_lat))
    for b, (south, north, count) in enumerate(zip(edges[:-1], edges[1:], counts, strict=True)):
        dlon = 360.0 / max(count, 1)
        for i in range(count):
            lon = -180.0 + (i + 0.5) * dlon
            add(
                f"{prefix}_b{b:02d}_{i:03d}",
                lon,
                (south + north) / 2,
                (lon - dlon / 2, float(south), lon + dlon / 2, float(north)),
            )
    add(f"{prefix}_north", 0.0, POLE_LAT, (-180.0, cap_lat, 180.0, 90.0))
    corner = math.hypot(half, half) / radius
    return PlanetPlan(regions, n_tiles, 2 * half, overlap_m, bands, cap_lat, aeqd_scale_error(corner))


def _in_lat(south: float, north: float, extent: Sequence[float] | None) -> bool:
    return extent is None or (south <= extent[3] and north >= extent[1])


def lon_lat_overlap(cell: Sequence[float], extent: Sequence[float]) -> bool:
    """Whether a lon/lat cell meets ``extent`` (longitudes compared modulo 360)."""
    west, south, east, north = extent
    if cell[1] > north or cell[3] < south:
        return False
    width = cell[2] - cell[0]
    shift = (west - cell[0] + 180.0) % 360.0 - 180.0  # extent's west relative to the cell's west
    return width >= 360.0 or any(
        s < width and s + (east - west) > 0 for s in (shift - 360, shift, shift + 360)
    )


def planet_plan(config: Mapping[str, Any]) -> PlanetPlan | None:
    """The plan a validated config asks for (its ``planet`` and ``tiles`` sections), None when disabled."""
    spec = config["planet"]
    if not spec["enabled"]:
        return None
    return plan_planet(
        spec["distortion_max"],
        spec["overlap_km"] * 1000.0,
        config["tiles"]["size_px"],
        config["tiles"]["gsd_m"],
        tiles_max=spec["tiles_max"],
        extent=spec["extent"],
    )


def planet_region_pattern(prefix: str = "planet") -> str:
    """A regex matching every region name :func:`plan_planet` gives (the workflow's {region} wildcard).

    Band and index are zero-padded to two and three digits, and grow beyond them on a fine grid.
    """
    return rf"{prefix}_(?:south|north|b\d+_\d+)"
