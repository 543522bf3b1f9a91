"""Where a raster lies, as a lon/lat GeoJSON footprint beside it: what catalogues and web maps read.

The outline is the raster's edge traced in its own CRS (densified, since straight projected edges
are curves in lon/lat) and transformed to the geographic CRS of its own body, so a Mars mosaic's
footprint is in Mars (IAU 2015) longitudes and latitudes, not Earth's. RFC 7946 GeoJSON assumes WGS84;
the body's CRS is therefore named in the feature's properties (``crs``), as planetary GIS tools expect.
Longitudes are unwrapped to be continuous around the centre, so a region across 180 degrees stays one
ring.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import rasterio

from areograph.atomic import atomic_path
from areograph.geo.grid import unwrap_lon


def footprint_path(raster: str | Path) -> Path:
    """Where the footprint of ``raster`` goes by default: beside it, ``name.tif`` -> ``name.geojson``."""
    return Path(raster).with_suffix(".geojson")


def raster_footprint(
    raster: str | Path, densify: int = 32, properties: Mapping[str, Any] | None = None
) -> dict:
    """GeoJSON Feature: the outline of ``raster`` in its body's lon/lat, with CRS, size and valid fraction."""
    if densify < 1:
        raise ValueError("densify must be >= 1")
    with rasterio.open(raster) as src:
        if src.crs is None:
            raise ValueError(f"{raster}: no CRS, so no footprint can be placed")
        crs = pyproj.CRS.from_wkt(src.crs.to_wkt())
        left, bottom, right, top = src.bounds
        valid = src.dataset_mask(out_shape=(min(src.height, 512), min(src.width, 512))) > 0
        width, height, gsd = src.width, src.height, abs(src.transform.a)
    geographic = crs.geodetic_crs if crs.is_projected else crs
    t = np.arange(densify) / densify
    xs = np.concatenate(
        [
            np.full(densify, left),
            left + (right - left) * t,
            np.full(densify, right),
            right - (right - left) * t,
        ]
    )
    ys = np.concatenate(
        [
            top - (top - bottom) * t,
            np.full(densify, bottom),
            bottom + (top - bottom) * t,
            np.full(densify, top),
        ]
    )
    to_lonlat = pyproj.Transformer.from_crs(crs, geographic, always_xy=True)
    lons, lats = to_lonlat.transform(xs, ys, errcheck=True)
    centre_lon, _ = to_lonlat.transform((left + right) / 2, (bottom + top) / 2, errcheck=True)
    lons = unwrap_lon(lons, centre_lon)
    ring = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lons, lats, strict=True)]
    props = {
        "raster": Path(raster).name,
        "crs": geographic.to_string(),
        "crs_name": geographic.name,
        "width_px": width,
        "height_px": height,
        "gsd_m": gsd if crs.is_projected else None,
        "valid_fraction": round(float(valid.mean()), 4),
    } | dict(properties or {})
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        "properties": props,
    }


def write_footprint(raster: str | Path, out: str | Path | None = None, **kwargs: Any) -> Path:
    """Write :func:`raster_footprint` of ``raster`` as a one-feature FeatureCollection (atomically)."""
    out = Path(out) if out is not None else footprint_path(raster)
    collection = {"type": "FeatureCollection", "features": [raster_footprint(raster, **kwargs)]}
    with atomic_path(out) as tmp:
        Path(tmp).write_text(json.dumps(collection, indent=1) + "\n")
    return out
