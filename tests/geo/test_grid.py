"""Region grids: tile sizes on the ground, download-box planning, CRS facts of both planets."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyproj
import pytest
from rasterio.windows import Window

from areograph.geo.crs import (
    EARTH_MEAN_RADIUS_M,
    MARS_RADIUS_M,
    geod,
    geographic_crs,
    local_aeqd_crs,
    mean_radius_m,
)
from areograph.geo.grid import haversine_m, plan_download_box, region_grid

TILE_M = 51_200.0
Corners = Callable[[int, int], list[tuple[float, float]]]


def edge_errors(grid, corners: Corners, g: pyproj.Geod) -> np.ndarray:
    """Relative error of every tile edge's geodesic length against 51.2 km."""
    a_lon, a_lat, b_lon, b_lat = [], [], [], []
    for row, col in grid.tiles():
        c = corners(row, col)
        for i in range(4):
            (lon1, lat1), (lon2, lat2) = c[i], c[(i + 1) % 4]
            a_lon.append(lon1)
            a_lat.append(lat1)
            b_lon.append(lon2)
            b_lat.append(lat2)
    _, _, dist = g.inv(a_lon, a_lat, b_lon, b_lat)
    return np.asarray(dist) / grid.tile_m - 1.0


def footprint_corners(grid) -> Corners:
    """The grid's own tile corners (NW, SW, SE, NE) from its public footprint API."""
    return lambda row, col: grid.tile_footprint_lonlat(row, col, densify=1)[:4]


def aeqd_edge_bound(grid, radius_m: float) -> float:
    """The worst relative tile-edge error of an AEQD grid on a sphere of ``radius_m``, from first principles.

    An AEQD map is exact along radii but stretches circles around the centre by k(rho) = t / sin(t),
    t = rho / R (a circle of ground radius rho is 2 pi R sin(t) long but drawn 2 pi rho long). So a map
    edge of 51.2 km is at most 51.2 km on the ground, and shortest where it runs tangentially as far out
    as possible: the middle of the region's outer edges, rho = half the region side, where the ground
    length is 51.2 km / k. Elsewhere the edge is partly radial or nearer the centre (the shrink
    1 - sin^2 t / t^2 per unit rho^2 decreases with rho). Hence |error| <= 1 - 1 / k(half side), up to
    the sub-1e-7 difference between the geodesic and the image of the straight edge.
    For 15 x 15 tiles on Mars (half side 384 km, R = 3,396 km) this is 0.2129 %: no AEQD grid meets
    0.2 % there, whereas on Earth (R = 6,371 km) the same layout stays near 0.06 %.
    """
    t = max(grid.width, grid.height) * grid.gsd_m / 2 / radius_m
    return 1 - math.sin(t) / t


@pytest.mark.parametrize("lat", [0.0, 37.0, 60.0])
def test_earth_tile_edges_are_51_2_km(lat: float) -> None:
    grid = region_grid("t", "earth", 10.0, lat, 15, 15)
    err = edge_errors(grid, footprint_corners(grid), geod("earth"))
    assert len(err) == 15 * 15 * 4
    assert np.abs(err).max() <= 0.002


@pytest.mark.parametrize("lat", [0.0, 37.0, 60.0])
def test_mars_tile_edges_are_51_2_km(lat: float) -> None:
    small = region_grid("t", "mars", 137.8, lat, 14, 14)
    assert np.abs(edge_errors(small, footprint_corners(small), geod("mars"))).max() <= 0.002
    # 15 x 15: the AEQD tangential stretch on the small sphere is at most ~0.2135 % (see the bound).
    # 15 x 15: the AEQD stretch on the small sphere makes the outer edges ~0.213 % short (see the bound).
    big = region_grid("t", "mars", 137.8, lat, 15, 15)
    bound = aeqd_edge_bound(big, MARS_RADIUS_M)
    assert 0.0021 < bound < 0.0022
    err = edge_errors(big, footprint_corners(big), geod("mars"))
    assert err.max() <= 1e-9  # never longer than 51.2 km on a sphere
    assert err.min() >= -bound - 1e-6
    assert err.min() < -0.002  # the bound is tight: the worst edge really misses 0.2 %


def test_edge_check_catches_wrong_radius_and_lonlat_grid() -> None:
    """The edge test above fails for the classic mistakes: Earth's radius on Mars, or a lon/lat grid."""
    grid = region_grid("t", "mars", 137.8, 37.0, 15, 15)
    wrong = pyproj.CRS(f"+proj=aeqd +lat_0=37 +lon_0=137.8 +R={EARTH_MEAN_RADIUS_M} +units=m +type=crs")
    to_ll = pyproj.Transformer.from_crs(
        wrong, f"+proj=longlat +R={EARTH_MEAN_RADIUS_M} +type=crs", always_xy=True
    )

    def wrong_radius(row: int, col: int) -> list[tuple[float, float]]:
        left, top = grid.tile_transform(row, col) @ (0, 0)
        xs, ys = [left, left, left + TILE_M, left + TILE_M], [top, top - TILE_M, top - TILE_M, top]
        return list(zip(*to_ll.transform(xs, ys), strict=True))

    assert np.abs(edge_errors(grid, wrong_radius, geod("mars"))).max() > 0.4

    step = math.degrees(TILE_M / MARS_RADIUS_M)  # 51.2 km of latitude, used for both axes

    def lonlat_grid(row: int, col: int) -> list[tuple[float, float]]:
        w, n = grid.lon + (col - grid.cols / 2) * step, grid.lat + (grid.rows / 2 - row) * step
        return [(w, n), (w, n - step), (w + step, n - step), (w + step, n)]

    assert np.abs(edge_errors(grid, lonlat_grid, geod("mars"))).max() > 0.15


@pytest.mark.parametrize("planet", ["earth", "mars"])
@pytest.mark.parametrize("lat", [0.0, 37.0, 60.0, -60.0])
@pytest.mark.parametrize("margin_m", [0.0, 2000.0])
def test_download_box_contains_every_tile(planet: str, lat: float, margin_m: float) -> None:
    grid = region_grid("t", planet, -119.5, lat, 15, 15)
    box = grid.download_box(margin_m)
    pts = np.array([p for r, c in grid.tiles() for p in grid.tile_footprint_lonlat(r, c, densify=16)])
    tol = 1e-9
    slack = min(
        pts[:, 0].min() - box.west,
        box.east - pts[:, 0].max(),
        pts[:, 1].min() - box.south,
        box.north - pts[:, 1].max(),
    )
    assert slack >= -tol
    if margin_m:  # and the margin is really there (in latitude degrees, the smaller of the two)
        assert slack >= 0.99 * math.degrees(margin_m / mean_radius_m(planet))


def test_equatorward_corners_need_more_than_half_the_height() -> None:
    """Why the box uses the corners: at 60 N the south corners lie ~17 km south of the south edge's middle."""
    grid = region_grid("t", "earth", 0.0, 60.0, 15, 15)
    ring = np.array(grid.footprint_lonlat())
    naive_south = 60.0 - math.degrees(grid.height * grid.gsd_m / 2 / EARTH_MEAN_RADIUS_M)
    assert ring[:, 1].min() < naive_south - 0.1
    assert grid.download_box(0).south <= ring[:, 1].min()


def test_haversine_matches_known_distances() -> None:
    r = MARS_RADIUS_M
    assert haversine_m(0, 0, 0, 90, r) == pytest.approx(math.pi * r / 2)
    assert haversine_m(10, 0, 190, 0, r) == pytest.approx(math.pi * r)
    lons = np.array([137.0, 137.5, -222.0])
    d = haversine_m(137.8, -5.4, lons, -4.0, r)
    assert isinstance(d, np.ndarray) and d.shape == (3,)
    _, _, ref = geod("mars").inv([137.8] * 3, [-5.4] * 3, lons, [-4.0] * 3)  # Mars is a sphere
    np.testing.assert_allclose(d, ref, rtol=1e-9)
    assert d[2] == pytest.approx(haversine_m(137.8, -5.4, 138.0, -4.0, r))  # -222 E == 138 E


def test_plan_download_box_is_haversine_sized() -> None:
    box = plan_download_box("mars", 137.8, 0.0, 102_400, 204_800, 0.0)
    assert box.north == pytest.approx(math.degrees(102_400 / MARS_RADIUS_M))
    # the east edge at the box's most poleward latitude is (at least) half the width from the centre line
    ground = haversine_m(137.8, box.north, box.east, box.north, MARS_RADIUS_M)
    assert 51_200 <= ground <= 51_200 * 1.01
    with pytest.raises(ValueError, match="pole"):
        plan_download_box("earth", 0.0, 88.0, 500_000, 500_000, 0.0)


def test_crs_facts() -> None:
    assert geographic_crs("mars").ellipsoid.semi_major_metre == MARS_RADIUS_M
    assert geographic_crs("mars").ellipsoid.inverse_flattening == 0
    assert geographic_crs("earth").to_epsg() == 4326
    assert mean_radius_m("earth") == EARTH_MEAN_RADIUS_M
    mars = local_aeqd_crs("mars", 137.8, -5.4)
    assert mars.ellipsoid.semi_major_metre == MARS_RADIUS_M
    assert local_aeqd_crs("earth", 0, 0).ellipsoid.semi_minor_metre == pytest.approx(6_356_752.314, abs=1e-3)
    to_ll = pyproj.Transformer.from_crs(mars, geographic_crs("mars"), always_xy=True)
    assert to_ll.transform(0.0, 0.0) == pytest.approx((137.8, -5.4))
    with pytest.raises(ValueError, match="unknown planet"):
        geographic_crs("venus")


def test_region_grid_layout() -> None:
    grid = region_grid("sierra", "earth", -119.5, 37.68, 2, 4)
    assert (grid.width, grid.height) == (512, 1024)
    assert grid.tile_ids()[:3] == ["sierra_r00_c00", "sierra_r00_c01", "sierra_r01_c00"]
    assert len(grid.tile_ids()) == 8
    assert grid.transform @ (grid.width / 2, grid.height / 2) == pytest.approx((0.0, 0.0))
    assert grid.tile_window(1, 1) == Window(256, 256, 256, 256)
    assert grid.tile_transform(0, 0) @ (0, 0) == pytest.approx((-51_200.0, 102_400.0))
    ring = grid.tile_footprint_lonlat(0, 0)
    assert ring[0] == ring[-1] and len(ring) == 4 * 16 + 1
    xs, ys = np.array(ring).T
    assert np.sum(xs[:-1] * ys[1:] - xs[1:] * ys[:-1]) > 0  # counter-clockwise (GeoJSON)
    assert ys.min() > 37.68 and xs.max() < -119.5 + 1e-6  # tile r00 c00 is north-west of the centre
    with pytest.raises(IndexError):
        grid.tile_id(4, 0)
    with pytest.raises(ValueError, match="region name"):
        region_grid("bad name/", "earth", 0, 0, 1, 1)


def test_mars_longitude_conventions_agree() -> None:
    east = region_grid("g", "mars", 137.8, -5.4, 6, 6)
    west = region_grid("g", "mars", -222.2, -5.4, 6, 6)
    a, b = np.array(east.tile_footprint_lonlat(2, 3)), np.array(west.tile_footprint_lonlat(2, 3))
    np.testing.assert_allclose(a[:, 0] - 360.0, b[:, 0], atol=1e-9)
    np.testing.assert_allclose(a[:, 1], b[:, 1], atol=1e-9)
    be, bw = east.download_box(2000), west.download_box(2000)
    assert be.west - 360 == pytest.approx(bw.west) and be.south == pytest.approx(bw.south)
    # the 6 x 6 Gale region plus 2 km margin fits the sample DEM (lon 134.297..141.305, lat -8.906..-1.898)
    assert be.west > 134.297 and be.east < 141.305 and be.south > -8.906 and be.north < -1.898
