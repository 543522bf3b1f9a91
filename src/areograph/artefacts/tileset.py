"""A tile set: one folder per region and layer holding the region raster, the tile index and the tiles.

``region.tif`` is the layer reprojected once onto the region's grid (rendering and the held-out side
by side read it); ``index.geojson`` lists every tile with its row, column and whether it was kept;
``<tile_id>.tif`` are the kept tiles that pairing reads. A water layer (the ``earth_water`` input, its
region raster and tiles) is uint8 with :data:`WATER` where there is water and :data:`LAND` elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

REGION_NAME = "region.tif"
INDEX_NAME = "index.geojson"
TILE_SUFFIX = ".tif"
WATER = 1
LAND = 0


def region_raster(tile_dir: Path) -> Path:
    """The region raster of a tile set."""
    return Path(tile_dir) / REGION_NAME


def tile_name(tile_id: str) -> str:
    """The file name of one tile in its tile set."""
    return f"{tile_id}{TILE_SUFFIX}"


def tile_files(tile_dir: Path) -> dict[str, Path]:
    """Every tile of a tile set by tile id (the region raster is not a tile); errors name the folder."""
    tile_dir = Path(tile_dir)
    if not tile_dir.is_dir():
        raise FileNotFoundError(f"tile folder {tile_dir} does not exist")
    return {p.stem: p for p in sorted(tile_dir.glob(f"*{TILE_SUFFIX}")) if p.name != REGION_NAME}


def index_path(tile_dir: Path) -> Path:
    """The tile index of a tile set."""
    return Path(tile_dir) / INDEX_NAME


def kept_positions(tile_dir: Path) -> dict[str, tuple[int, int]] | None:
    """Row/col of the kept tiles from the tile index, or None when the folder has no index."""
    index = index_path(tile_dir)
    if not index.exists():
        return None
    try:
        features = json.loads(index.read_text())["features"]
        props = [f["properties"] for f in features]
        return {p["tile_id"]: (int(p["row"]), int(p["col"])) for p in props if p.get("kept", True)}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{index}: not a tile index FeatureCollection ({exc})") from exc
