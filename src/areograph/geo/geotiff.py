"""Write a GeoTIFF the one way the project does: atomically, deflate-compressed, with an internal mask;
and read an RGB one back with that mask (:func:`read_rgb`).

Sources, the tiler and the renderers all deliver rasters whose invalid pixels are flagged by an
internal mask band (GDAL_TIFF_INTERNAL_MASK), so every reader can ask ``dataset_mask()``. Products
people open in GIS tools (the mosaics) are written as Cloud-Optimised GeoTIFFs (:func:`write_cog`):
256 px tiles, overviews down to one tile, everything in the order a range request wants it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.io import MemoryFile

from areograph.atomic import atomic_path


def read_rgb(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """An RGB raster's bands 1-3 as (H, W, 3) in its own dtype, and its validity (H, W) bool from the mask."""
    with rasterio.open(path) as src:
        return np.moveaxis(src.read([1, 2, 3]), 0, -1), src.read_masks(1) > 0


def write_geotiff(
    path: Path,
    data: np.ndarray,
    profile: Mapping[str, Any],
    valid: np.ndarray | None = None,
    tags: Mapping[str, str] | None = None,
    colorinterp: Sequence[Any] | None = None,
) -> Path:
    """Write (bands, H, W) ``data`` with ``profile`` (CRS, transform, nodata, ...) to ``path`` atomically.

    ``valid`` (H, W) bool becomes the internal mask; ``tags`` the metadata; ``colorinterp`` the band
    interpretation when it lists one entry per band.
    """
    with atomic_path(path) as tmp, rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        _write(
            tmp, data, {"driver": "GTiff", "compress": "deflate"} | dict(profile), valid, tags, colorinterp
        )
    return Path(path)


# COG creation options: deflate with the predictor that suits the data type, 256 px blocks (the tile
# size), averaged overviews until the smallest fits one block; the mask gets its own overviews.
_COG_OPTIONS = {
    "BIGTIFF": "IF_SAFER",
    "COMPRESS": "DEFLATE",
    "BLOCKSIZE": 256,
    "OVERVIEWS": "AUTO",
    "OVERVIEW_RESAMPLING": "AVERAGE",
}


def write_cog(
    path: Path,
    data: np.ndarray,
    profile: Mapping[str, Any],
    valid: np.ndarray | None = None,
    tags: Mapping[str, str] | None = None,
    colorinterp: Sequence[Any] | None = None,
) -> Path:
    """:func:`write_geotiff`, as a Cloud-Optimised GeoTIFF with overviews (GDAL's COG driver).

    The raster is assembled in memory as an ordinary tiled GeoTIFF with its mask, then GDAL's COG
    driver copies it (building the overviews and the mask's overviews) to a temporary file that is
    renamed into place.
    """
    base = {
        k: v
        for k, v in profile.items()
        if k not in {"driver", "compress", "tiled", "blockxsize", "blockysize"}
    }
    predictor = 3 if np.issubdtype(data.dtype, np.floating) else 2
    with (
        atomic_path(path) as tmp,
        rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True),
        MemoryFile(ext=".tif") as mem,
    ):
        _write(mem.name, data, {"driver": "GTiff", "tiled": True, **base}, valid, tags, colorinterp)
        rasterio.shutil.copy(mem.name, tmp, driver="COG", PREDICTOR=predictor, **_COG_OPTIONS)
    return Path(path)


def _write(
    target: str | Path,
    data: np.ndarray,
    profile: Mapping[str, Any],
    valid: np.ndarray | None,
    tags: Mapping[str, str] | None,
    colorinterp: Sequence[Any] | None,
) -> None:
    count, height, width = data.shape
    full = dict(profile) | {"count": count, "height": height, "width": width, "dtype": data.dtype.name}
    with rasterio.open(target, "w", **full) as dst:
        dst.write(data)
        if valid is not None:
            dst.write_mask(np.where(valid, 255, 0).astype(np.uint8))
        if colorinterp is not None and len(colorinterp) == count:
            dst.colorinterp = list(colorinterp)
        dst.update_tags(**dict(tags or {}))


def geotiff_to_cog(src_path: Path, path: Path, overview_resampling: str = "average") -> Path:
    """Copy a tiled GeoTIFF (its mask included) to ``path`` as a Cloud-Optimised GeoTIFF, atomically.

    GDAL's COG driver only creates by copy; it adds the overviews (so a viewer streams a planet at any
    zoom) and orders header, overviews and tiles for HTTP range reads. For rasters assembled on disk
    block by block (the planet mosaic); :func:`write_cog` is the in-memory path.
    """
    options = _COG_OPTIONS | {"OVERVIEW_RESAMPLING": overview_resampling.upper()}
    with atomic_path(path) as tmp:
        rasterio.shutil.copy(src_path, tmp, driver="COG", **options)
    return Path(path)
