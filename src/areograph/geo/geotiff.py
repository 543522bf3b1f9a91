"""Write a GeoTIFF the one way the project does: atomically, deflate-compressed, with an internal mask.

Sources, the tiler and the renderers all deliver rasters whose invalid pixels are flagged by an
internal mask band (GDAL_TIFF_INTERNAL_MASK), so every reader can ask ``dataset_mask()``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil

from areograph.atomic import atomic_path


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
    count, height, width = data.shape
    full = {"driver": "GTiff", "compress": "deflate"} | dict(profile)
    full |= {"count": count, "height": height, "width": width, "dtype": data.dtype.name}
    with (
        atomic_path(path) as tmp,
        rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True),
        rasterio.open(tmp, "w", **full) as dst,
    ):
        dst.write(data)
        if valid is not None:
            dst.write_mask(np.where(valid, 255, 0).astype(np.uint8))
        if colorinterp is not None and len(colorinterp) == count:
            dst.colorinterp = list(colorinterp)
        dst.update_tags(**dict(tags or {}))
    return Path(path)


def geotiff_to_cog(src_path: Path, path: Path, overview_resampling: str = "average") -> Path:
    """Copy a tiled GeoTIFF (its mask included) to ``path`` as a Cloud-Optimised GeoTIFF, atomically.

    GDAL's COG driver only creates by copy; it adds the overviews (so a viewer streams a planet at any
    zoom) and orders header, overviews and tiles for HTTP range reads.
    """
    with atomic_path(path) as tmp:
        rasterio.shutil.copy(
            src_path, tmp, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=512,
            OVERVIEW_RESAMPLING=overview_resampling.upper(), BIGTIFF="IF_SAFER",
        )
    return Path(path)


def write_cog(
    path: Path,
    data: np.ndarray,
    profile: Mapping[str, Any],
    valid: np.ndarray | None = None,
    tags: Mapping[str, str] | None = None,
    colorinterp: Sequence[Any] | None = None,
) -> Path:
    """:func:`write_geotiff`, but the file at ``path`` is a Cloud-Optimised GeoTIFF with overviews."""
    with tempfile.TemporaryDirectory(dir=Path(path).parent) as tmp:
        staged = write_geotiff(Path(tmp) / "staged.tif", data, profile, valid, tags, colorinterp)
        return geotiff_to_cog(staged, path)
