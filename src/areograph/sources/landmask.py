"""Earth's sea as a raster from the GSHHG shoreline (``roaring-landmask``): water known without the picture.

The terraformer learns what a coast looks like only if it is told where the water is by something other
than the imagery it must learn to draw. GSHHG (Wessel and Smith, the Global Self-consistent, Hierarchical,
High-resolution Geography database; LGPL) draws the world's shorelines at full resolution;
``roaring-landmask`` packs it into a point-in-land test. This adapter samples it on a lon/lat raster
covering the requested box: ``1`` = sea, ``0`` = land. GSHHG's land test counts lakes as land, so large
lakes (Titicaca, the Great Lakes) are not water here (docs/data.md has the measured agreement with
the imagery).

Delivered like every raster input: a GeoTIFF in EPSG:4326 covering the box, uint8.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from rasterio.transform import from_origin

from areograph.artefacts.tileset import LAND, WATER
from areograph.geo.geotiff import write_geotiff
from areograph.sources import BBox, Source, SourceError

# Sampling step of the mask (degrees): ~110 m of latitude, finer than the 200 m tile grid it feeds.
DEFAULT_STEP_DEG = 0.001
LICENCE = "GSHHG shorelines (Wessel and Smith), LGPL-3.0, through roaring-landmask (MIT)"


@functools.lru_cache(maxsize=1)
def _landmask() -> Any:
    """The GSHHG point-in-land structure (a few seconds to load; once per process)."""
    try:
        from roaring_landmask import RoaringLandmask
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise SourceError(f"the landmask adapter needs roaring-landmask ({exc})") from exc
    return RoaringLandmask.new()


def sea_mask(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where the point (degrees, any shape) is in the sea by GSHHG."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    wrapped = (lon + 180.0) % 360.0 - 180.0
    land = _landmask().contains_many(wrapped.ravel(), lat.ravel())
    return ~np.asarray(land, dtype=bool).reshape(lon.shape)


class LandmaskSource(Source):
    """Serves ``earth_water`` (1 = sea, 0 = land) from GSHHG; no network, no files."""

    name: ClassVar[str] = "landmask"
    inputs: ClassVar[frozenset[str]] = frozenset({"earth_water"})
    options_schema: ClassVar[dict] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"step_deg": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.1}},
    }

    def fetch_raster(self, input_name: str, box: BBox, out_path: Path) -> Path:
        """Sample the sea mask at pixel centres of a ``step_deg`` lon/lat raster covering ``box``."""
        if input_name not in self.inputs:
            return super().fetch_raster(input_name, box, out_path)
        step = float(self.options.get("step_deg", DEFAULT_STEP_DEG))
        west, north = math.floor(box.west / step) * step, math.ceil(box.north / step) * step
        width = max(1, math.ceil((box.east - west) / step))
        height = max(1, math.ceil((north - box.south) / step))
        lon = west + (np.arange(width) + 0.5) * step
        lat = north - (np.arange(height) + 0.5) * step
        lat = np.clip(lat, -90.0, 90.0)
        mask = np.empty((height, width), np.uint8)
        for r0 in range(0, height, 512):  # rows in chunks: bounded memory for large boxes
            rows = lat[r0 : r0 + 512]
            lon2, lat2 = np.meshgrid(lon, rows)
            mask[r0 : r0 + len(rows)] = np.where(sea_mask(lon2, lat2), WATER, LAND)
        profile = {
            "crs": "EPSG:4326",
            "transform": from_origin(west, north, step, step),
            "width": width,
            "height": height,
            "count": 1,
            "dtype": "uint8",
        }
        tags = {
            "AREOGRAPH_SOURCE": "landmask:gshhg",
            "AREOGRAPH_LICENCE": LICENCE,
            "AREOGRAPH_WATER": "1 = sea",
        }
        write_geotiff(Path(out_path), mask[None], profile, None, tags)
        return Path(out_path)
