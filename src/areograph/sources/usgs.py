"""Mars elevation windows read remotely from the USGS global DEM mosaics (GDAL ``/vsicurl/``).

The global DEMs are single Cloud Optimized GeoTIFFs of gigabytes; a region needs a few megabytes of
them. GDAL's ``/vsicurl/`` reads only the header and the tiles under the window with HTTP range
requests. The window is written as a local COG per region (the cache a re-run reuses).

Both USGS mosaics are in an equirectangular projection of the Mars sphere, which maps lon/lat to
metres linearly; the window is therefore relabelled exactly (no resampling) in the planet's
geographic CRS, ``IAU_2015:49900``, like every other raster source. A DEM in a projection that is not
linear in lon/lat is delivered in its own CRS with correct georeferencing (the tiling reprojects it).
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyproj
import rasterio
from affine import Affine
from rasterio.errors import RasterioIOError

from areograph.atomic import atomic_path
from areograph.download import POLICY_OPTIONS, redact
from areograph.geo.crs import crs_planet, geographic_crs
from areograph.sources import BBox, Source, SourceError
from areograph.sources.raster_window import (  # noqa: F401 (lon_shift, pixel_window: public here before)
    RasterWindowError,
    box_windows,
    lon_shift,
    pixel_window,
)

log = logging.getLogger(__name__)

PRODUCTS = {
    # MGS MOLA + Mars Express HRSC blended DEM, 200 m/px, int16 metres (USGS Astrogeology).
    "hrsc_mola_blend": "https://planetarymaps.usgs.gov/mosaic/Mars/HRSC_MOLA_Blend/"
    "Mars_HRSC_MOLA_BlendDEM_Global_200mp_v2.tif",
    # MGS MOLA MEGDR global mosaic, 463 m/px (128 px/degree), int16 metres.
    "mola_megdr": "https://planetarymaps.usgs.gov/mosaic/Mars_MGS_MOLA_DEM_mosaic_global_463m.tif",
}
DEFAULT_NODATA = -32768


def gdal_http_env(retries: int, backoff_s: float, timeout_s: float) -> dict[str, Any]:
    """GDAL settings for remote COG reads: no directory listing, retries on 429/5xx, timeouts."""
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff",
        "GDAL_HTTP_MAX_RETRY": str(retries),
        "GDAL_HTTP_RETRY_DELAY": str(max(backoff_s, 0.001)),
        "GDAL_HTTP_TIMEOUT": str(max(1, math.ceil(timeout_s))),
        "GDAL_HTTP_CONNECTTIMEOUT": str(max(1, math.ceil(timeout_s))),
        "VSI_CACHE": "TRUE",
    }


def geographic_relabel(
    crs: pyproj.CRS, transform: Affine, width: int, height: int
) -> tuple[pyproj.CRS, Affine] | None:
    """The same pixels' exact lon/lat grid if the projection is linear in lon/lat (equirectangular).

    Returns (geographic CRS, transform) or None when a relabel would be inexact. The planet's own
    geographic CRS is used when the datum is that planet's, so outputs match the sample's CRS.
    """
    geo = crs.geodetic_crs
    if geo is None or not crs.is_projected:
        return None
    to_geo = pyproj.Transformer.from_crs(crs, geo, always_xy=True)
    cols = np.array([0, width, 0, width, width / 2, width / 3])
    rows = np.array([0, 0, height, height, height / 2, 2 * height / 3])
    xs, ys = transform @ (cols, rows)
    lon, lat = to_geo.transform(xs, ys)
    lon = np.where(lon < lon[0] - 1e-9, lon + 360.0, lon)  # a window stitched across the antimeridian
    a = (lon[1] - lon[0]) / width
    e = (lat[2] - lat[0]) / height
    affine = Affine(a, 0.0, lon[0], 0.0, e, lat[0])
    plon, plat = affine @ (cols, rows)
    if not (np.allclose(plon, lon, atol=1e-9, rtol=0) and np.allclose(plat, lat, atol=1e-9, rtol=0)):
        return None
    try:
        planet = crs_planet(geo)
        own = pyproj.CRS(geographic_crs(planet))
        same_body = abs(own.ellipsoid.semi_major_metre - geo.ellipsoid.semi_major_metre) < 0.5 and (
            abs(own.ellipsoid.semi_minor_metre - geo.ellipsoid.semi_minor_metre) < 0.5
        )
        geo = own if same_body else geo
    except ValueError:
        pass
    return geo, affine


class UsgsSource(Source):
    """USGS Mars global DEM windows (HRSC-MOLA blend 200 m or MOLA MEGDR 463 m) for ``mars_elevation``."""

    name: ClassVar[str] = "usgs"
    inputs: ClassVar[frozenset[str]] = frozenset({"mars_elevation"})
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "product": {"enum": list(PRODUCTS)},
            "url": {"type": "string", "pattern": "^https?://"},
            **{k: v for k, v in POLICY_OPTIONS.items() if k != "workers"},
        },
    }

    @property
    def url(self) -> str:
        """The COG to read: option ``url``, else the URL of option ``product``."""
        return self.options.get("url") or PRODUCTS[self.options.get("product", "hrsc_mola_blend")]

    def fetch_raster(self, input_name: str, box: BBox, out_path: Path) -> Path:
        """Read the DEM window under ``box`` remotely; write it as a local COG (reused if present)."""
        if input_name not in self.inputs:
            return super().fetch_raster(input_name, box, out_path)
        out_path = Path(out_path)
        url = self.url
        key = hashlib.sha1(f"{url}|{box!r}".encode()).hexdigest()
        if out_path.is_file():
            try:
                with rasterio.open(out_path) as cached:
                    if cached.tags().get("AREOGRAPH_CACHE_KEY") == key:
                        log.info("%s: cached window of %s reused", out_path, redact(url))
                        return out_path
            except RasterioIOError:
                pass
        env = gdal_http_env(
            int(self.options.get("retries", 5)),
            float(self.options.get("backoff_s", 1.0)),
            float(self.options.get("timeout_s", 60.0)),
        )
        try:
            with rasterio.Env(**env), rasterio.open("/vsicurl/" + url) as src:
                data, profile = self._read_window(src, box, url)
        except RasterioIOError as exc:
            raise SourceError(f"{redact(url)}: cannot read the DEM remotely ({exc})") from None
        profile["driver"] = "COG"
        cog = {"compress": "deflate", "predictor": 2, "blocksize": 256}
        with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile, **cog) as dst:
            dst.write(data, 1)
            dst.update_tags(
                AREOGRAPH_SOURCE=f"usgs:{redact(url)}", AREOGRAPH_CACHE_KEY=key, AREA_OR_POINT="Area"
            )
        return out_path

    def _read_window(self, src: rasterio.DatasetReader, box: BBox, url: str) -> tuple[np.ndarray, dict]:
        crs = pyproj.CRS(src.crs)
        try:  # in the DEM's longitude convention, stitched across the antimeridian of a global DEM
            windows = box_windows(src, box, what="DEM")
        except RasterWindowError as exc:
            raise SourceError(f"{redact(url)}: {exc}") from None
        log.info(
            "%s: reading window(s) %s of %dx%d px via range requests",
            redact(url),
            windows,
            src.width,
            src.height,
        )
        data = np.concatenate([src.read(1, window=w) for w in windows], axis=1)
        transform = src.window_transform(windows[0])
        nodata = src.nodata if src.nodata is not None else DEFAULT_NODATA
        out_crs: Any = src.crs
        relabel = geographic_relabel(crs, transform, data.shape[1], data.shape[0])
        if relabel is not None:
            out_crs, transform = relabel
            out_crs = rasterio.crs.CRS.from_wkt(out_crs.to_wkt())
        profile = {
            "width": data.shape[1],
            "height": data.shape[0],
            "count": 1,
            "dtype": data.dtype.name,
            "crs": out_crs,
            "transform": transform,
            "nodata": nodata,
        }
        return data, profile
