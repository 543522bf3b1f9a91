"""Write a GeoTIFF the one way the project does: atomically, deflate-compressed, with an internal mask.

Sources, the tiler and the renderers all deliver rasters whose invalid pixels are flagged by an
internal mask band (GDAL_TIFF_INTERNAL_MASK), so every reader can ask ``dataset_mask()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

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
