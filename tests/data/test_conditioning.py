"""Conditioning channels: latitude scaling, compact tile latitudes, datasets with extra inputs."""

from __future__ import annotations

import numpy as np
import pytest

from areograph.data.conditioning import (
    check_conditioning,
    conditioning_stack,
    corner_latitudes,
    latitude_channel,
    latitudes_from_corners,
    pixel_latitudes,
)
from areograph.geo.grid import region_grid


def test_latitude_channel_is_symmetric_and_spans_minus_one_to_one() -> None:
    np.testing.assert_allclose(latitude_channel(np.array([0.0, 45.0, -45.0, 90.0, -90.0])), [-1, 0, 0, 1, 1])


@pytest.mark.parametrize(("planet", "lon", "lat"), [("earth", -119.5, 47.7), ("mars", 137.8, -5.4)])
def test_corner_latitudes_reproduce_every_pixel_of_a_tile(planet: str, lon: float, lat: float) -> None:
    grid = region_grid("r", planet, lon, lat, 3, 3, 256, 200)
    transform = grid.tile_transform(2, 0)  # a corner tile, farthest from the projection centre
    exact = pixel_latitudes(transform, grid.crs, 256, 256)
    approx = latitudes_from_corners(corner_latitudes(transform, grid.crs, 256, 256), 256, 256)
    assert np.abs(exact - approx).max() < 1e-3  # degrees: bilinear is exact enough on 51.2 km
    assert exact[0, 0] > exact[-1, 0]  # north up


def test_conditioning_stack_and_validation() -> None:
    elev = np.zeros((4, 5), np.float32)
    lat = np.full((4, 5), 45.0, np.float32)
    out = conditioning_stack(elev, lat, ["elevation", "latitude"])
    assert out.shape == (2, 4, 5) and np.allclose(out[1], 0.0)
    assert conditioning_stack(elev, None, ["elevation"]).shape == (1, 4, 5)
    for bad in (["latitude"], ["elevation", "elevation"], ["elevation", "slope"], []):
        with pytest.raises(ValueError, match="conditioning"):
            check_conditioning(bad)
    with pytest.raises(ValueError, match="no latitudes"):
        conditioning_stack(elev, None, ["elevation", "latitude"])
