"""What the terraforming generator is told besides elevation: the one place conditioning channels are built.

The seed's authors propose latitude as an extra input: the same mountains are glaciated at 47 deg,
green at 40 and bare at 16, and elevation alone cannot say which. The channel is the absolute latitude
(climate zones mirror across the equator; a signed latitude would let the model tie "south" to the
one southern training region), scaled so that 0 deg -> -1 and 90 deg -> +1 like the other inputs.
Training tiles and Mars renders build their channels here, so a model sees the same numbers on both
planets (Mars latitudes are planetocentric, as on its grid).

``water`` tells the generator where the water is (Earth: the sea from a shoreline data set or the
elevation source, never from the imagery; Mars: below a chosen sea level), so that it learns what a
coast, a beach or a delta looks like and can draw a sea where a user asks for one: -1 = land, +1 =
water. Heights are measured above the water level, so the sea itself is at 0 m.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyproj
from rasterio.transform import Affine

CONDITIONING_INPUTS = ("elevation", "latitude", "water")
DEFAULT_CONDITIONING = ("elevation",)


def check_conditioning(inputs: Sequence[str]) -> tuple[str, ...]:
    """Validate a conditioning list: elevation first, each known input once."""
    inputs = tuple(inputs)
    unknown = [i for i in inputs if i not in CONDITIONING_INPUTS]
    if unknown or not inputs or inputs[0] != "elevation" or len(set(inputs)) != len(inputs):
        raise ValueError(
            f"conditioning {list(inputs)} is invalid: it must start with 'elevation' and list each of "
            f"{list(CONDITIONING_INPUTS)} at most once"
        )
    return inputs


def latitude_channel(lat_deg: np.ndarray) -> np.ndarray:
    """|latitude| mapped linearly from [0, 90] deg to [-1, 1] (float32)."""
    return (np.abs(np.asarray(lat_deg, dtype=np.float32)) / 45.0 - 1.0).astype(np.float32)


def _latitudes_at(transform: Affine, crs: pyproj.CRS | str, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    crs = pyproj.CRS(crs)
    to_geo = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    xs, ys = transform @ (cols, rows)
    _, lat = to_geo.transform(xs, ys)
    return np.asarray(lat, dtype=np.float32)


def pixel_latitudes(transform: Affine, crs: pyproj.CRS | str, height: int, width: int) -> np.ndarray:
    """Geodetic latitude (deg) of every pixel centre of a raster on ``crs`` (any projected CRS)."""
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    return _latitudes_at(transform, crs, cols, rows)


def corner_latitudes(transform: Affine, crs: pyproj.CRS | str, height: int, width: int) -> np.ndarray:
    """(2, 2) latitudes of the corner pixel centres (NW, NE / SW, SE): a tile's compact latitude record."""
    cols, rows = np.meshgrid([0.5, width - 0.5], [0.5, height - 0.5])
    return _latitudes_at(transform, crs, cols, rows)


def latitudes_from_corners(corners: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear (height, width) latitudes from :func:`corner_latitudes` (exact to ~1e-4 deg on a tile)."""
    v = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    u = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    c = np.asarray(corners, dtype=np.float32)
    top = c[0, 0] * (1 - u) + c[0, 1] * u
    bottom = c[1, 0] * (1 - u) + c[1, 1] * u
    return (top * (1 - v) + bottom * v).astype(np.float32)


def water_channel(water: np.ndarray) -> np.ndarray:
    """A water mask (bool, or 0/1) as the generator sees it: land -1, water +1 (float32)."""
    return np.where(np.asarray(water) > 0, 1.0, -1.0).astype(np.float32)


def conditioning_stack(
    scaled_elevation: np.ndarray,
    latitude_deg: np.ndarray | None,
    inputs: Sequence[str],
    water: np.ndarray | None = None,
) -> np.ndarray:
    """(C, H, W) float32 generator input: the scaled elevation, then each further input in order.

    ``water`` None with a water channel asked for means dry land everywhere (a Mars without a sea).
    """
    inputs = check_conditioning(inputs)
    channels = [np.asarray(scaled_elevation, dtype=np.float32)]
    for name in inputs[1:]:
        if name == "latitude":
            if latitude_deg is None:
                raise ValueError("conditioning asks for latitude but no latitudes were given")
            channels.append(latitude_channel(latitude_deg))
        elif name == "water":
            mask = np.zeros(channels[0].shape, bool) if water is None else water
            if np.shape(mask) != channels[0].shape:
                raise ValueError(f"water mask is {np.shape(mask)}, elevation {channels[0].shape}")
            channels.append(water_channel(mask))
    return np.stack(channels).astype(np.float32)
