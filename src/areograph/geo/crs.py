"""The one place for the coordinate reference facts of both planets.

Earth data arrive in EPSG:4326 (WGS84) and Mars data in ``IAU_2015:49900`` (the Mars 2015 sphere,
planetocentric, east-positive). Every region is tiled in an azimuthal equidistant (AEQD) grid centred
on the region: distances from the centre are true, so a pixel is 200 m on the ground whatever the
latitude. Earth keeps the WGS84 ellipsoid; Mars is the IAU sphere of radius 3,396,190 m.
"""

from __future__ import annotations

import functools

import pyproj
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import AzimuthalEquidistantConversion

PLANETS = ("earth", "mars")

EARTH_GEOGRAPHIC: str = "EPSG:4326"
MARS_GEOGRAPHIC: str = "IAU_2015:49900"
MARS_RADIUS_M: float = 3_396_190.0
# Mars 2015 sphere, equirectangular (plate carree, clon = 0), metres: the CRS of the global mosaic.
MARS_EQUIRECTANGULAR: str = "IAU_2015:49910"
EARTH_MEAN_RADIUS_M: float = 6_371_008.8  # IUGG mean radius R1 = (2a + b) / 3 of WGS84

_WGS84_A = 6_378_137.0
_WGS84_F = 1 / 298.257223563
_WGS84_E2 = _WGS84_F * (2 - _WGS84_F)
# Smallest radius of curvature anywhere on WGS84 (the meridian radius at the equator, a (1 - e^2)).
# A sphere this small never under-estimates the angular size of a ground distance on the ellipsoid.
EARTH_MIN_CURVATURE_RADIUS_M: float = _WGS84_A * (1 - _WGS84_E2)

_GEOGRAPHIC = {"earth": EARTH_GEOGRAPHIC, "mars": MARS_GEOGRAPHIC}
_MEAN_RADIUS = {"earth": EARTH_MEAN_RADIUS_M, "mars": MARS_RADIUS_M}
_PLANNING_RADIUS = {"earth": EARTH_MIN_CURVATURE_RADIUS_M, "mars": MARS_RADIUS_M}


def check_planet(planet: str) -> str:
    """Return ``planet`` if it is one we know, else raise naming the allowed values."""
    if planet not in PLANETS:
        raise ValueError(f"unknown planet {planet!r}; expected one of {PLANETS}")
    return planet


def normalize_lon(lon: float) -> float:
    """Longitude in [-180, 180): PROJ's own range, so 0..360 east inputs (Mars) work too."""
    return (float(lon) + 180.0) % 360.0 - 180.0


@functools.cache
def geographic_crs(planet: str) -> pyproj.CRS:
    """The planet's lon/lat CRS in which every source delivers rasters."""
    return pyproj.CRS(_GEOGRAPHIC[check_planet(planet)])


@functools.cache
def local_aeqd_crs(planet: str, lon0: float, lat0: float) -> pyproj.CRS:
    """An azimuthal equidistant CRS centred on (lon0, lat0), in metres, on the planet's own datum.

    Built on the planet's geographic CRS (not a bare ``+R=`` PROJ string) so that PROJ knows which
    body it is on: transforms to and from the source CRS need no datum shift, and mixing planets fails.
    """
    base = geographic_crs(planet)
    if not -90.0 <= lat0 <= 90.0:
        raise ValueError(f"AEQD centre latitude {lat0} is not between -90 and 90")
    conversion = AzimuthalEquidistantConversion(
        latitude_natural_origin=lat0, longitude_natural_origin=normalize_lon(lon0)
    )
    return ProjectedCRS(
        conversion=conversion,
        geodetic_crs=base,
        name=f"{planet.capitalize()} AEQD lon0={lon0:g} lat0={lat0:g}",
    )


@functools.cache
def geod(planet: str) -> pyproj.Geod:
    """The planet's reference surface for geodesic distances (WGS84 ellipsoid / Mars sphere)."""
    return geographic_crs(planet).get_geod()


def mean_radius_m(planet: str) -> float:
    """The sphere used for Haversine distances on ``planet``."""
    return _MEAN_RADIUS[check_planet(planet)]


def planning_radius_m(planet: str) -> float:
    """The sphere used to plan download boxes: never smaller in degrees than the true ground extent.

    On Earth this is the smallest WGS84 radius of curvature (6,335 km), so a box planned on it contains
    the ellipsoidal footprint at every latitude; on Mars the datum is a sphere and this is its radius.
    """
    return _PLANNING_RADIUS[check_planet(planet)]


def crs_planet(crs: pyproj.CRS) -> str:
    """Which planet a CRS lives on, from its ellipsoid size (what survives a GeoTIFF round trip)."""
    a = crs.ellipsoid.semi_major_metre if crs.ellipsoid is not None else None
    if a is None:
        raise ValueError(f"CRS {crs.name!r} has no ellipsoid")
    for planet in PLANETS:
        ref = geographic_crs(planet).ellipsoid.semi_major_metre
        if abs(a - ref) / ref < 1e-3:
            return planet
    raise ValueError(f"CRS {crs.name!r} (semi-major axis {a} m) is on neither Earth nor Mars")
