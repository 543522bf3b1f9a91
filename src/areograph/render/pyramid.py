"""Tile pyramid of one RGBA raster for the map viewer: ``{z}/{x}/{y}.png``, 256 px tiles.

The viewer uses Leaflet's ``L.CRS.Simple`` (one map unit = one pixel at zoom 0), so the zoom levels
are plain powers of two of the raster: ``max_zoom`` is the native resolution and zoom 0 is the level at
which the whole raster fits in one tile. Edge tiles are padded with transparent pixels, and only tiles
that overlap the raster are written, so the viewer must pass the raster's bounds to its tile layers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

TILE_PX = 256


def max_zoom(width: int, height: int, tile_px: int = TILE_PX) -> int:
    """The zoom of the native resolution: the number of halvings until the raster fits one tile."""
    return max(0, math.ceil(math.log2(max(width, height) / tile_px)))


def write_pyramid(rgba: np.ndarray, out_dir: Path, tile_px: int = TILE_PX) -> int:
    """Write every zoom level of ``rgba`` (HxWx4 uint8) under ``out_dir``; return the max zoom.

    Each level is resampled from the full raster (Lanczos), not from the level above, so no level
    accumulates the blur of repeated halvings.
    """
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"write_pyramid: expected HxWx4 uint8, got {rgba.shape} {rgba.dtype}")
    height, width = rgba.shape[:2]
    top = max_zoom(width, height, tile_px)
    full = Image.fromarray(rgba, "RGBA")
    for z in range(top + 1):
        scale = 2.0 ** (z - top)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        level = full if z == top else full.resize(size, Image.Resampling.LANCZOS)
        for x in range(math.ceil(size[0] / tile_px)):
            column = out_dir / str(z) / str(x)
            column.mkdir(parents=True, exist_ok=True)
            for y in range(math.ceil(size[1] / tile_px)):
                box = (x * tile_px, y * tile_px, (x + 1) * tile_px, (y + 1) * tile_px)
                level.crop(box).save(column / f"{y}.png", optimize=False)  # crop pads with transparency
    return top
