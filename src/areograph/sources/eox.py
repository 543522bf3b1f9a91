"""Sentinel-2 cloudless imagery from the EOX WMS, mosaicked into one georeferenced GeoTIFF.

A WMS GetMap answers one image per bounding box, up to a pixel limit per side. We lay one pixel grid
over the requested box (square pixels on the ground at the box's mid-latitude, like the sample), cut
it into requests within the limit, fetch them through the resilient downloader and paste them into
one EPSG:4326 GeoTIFF. The licence requires an attribution, written into the file's metadata.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from areograph.artefacts.types import BBox, PixelGrid, SourceError
from areograph.atomic import atomic_path
from areograph.download import POLICY_OPTIONS, DownloadItem, download_many, policy_from_options
from areograph.geo.crs import EARTH_GEOGRAPHIC, EARTH_MEAN_RADIUS_M
from areograph.sources import Source

log = logging.getLogger(__name__)

DEFAULT_URL = "https://tiles.maps.eox.at/wms"
YEARS = (2016, 2018, 2019, 2020, 2021, 2022, 2023, 2024)
FORMATS = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}


def layer_name(year: int) -> str:
    """The EOX WMS layer of a yearly Sentinel-2 cloudless mosaic (the first, 2016, has no suffix)."""
    return "s2cloudless" if year == 2016 else f"s2cloudless-{year}"


def attribution(year: int) -> str:
    """The attribution the EOX licence requires for the mosaic of ``year``."""
    data_years = {2016: "2016", 2018: "2017 & 2018"}.get(year, str(year))
    return (
        "Sentinel-2 cloudless - https://s2maps.eu by EOX IT Services GmbH "
        f"(Contains modified Copernicus Sentinel data {data_years})"
    )


def licence(year: int) -> str:
    """The licence of the mosaic of ``year`` (2016: CC BY 4.0; later years: CC BY-NC-SA 4.0)."""
    return "CC BY 4.0" if year == 2016 else "CC BY-NC-SA 4.0"


def plan_ground_grid(box: BBox, resolution_m: float, radius_m: float = EARTH_MEAN_RADIUS_M) -> PixelGrid:
    """A grid covering ``box`` exactly with pixels about ``resolution_m`` on the ground.

    The latitude step is the arc of ``resolution_m``; the longitude step is stretched by 1/cos(mid
    latitude) so pixels are square on the ground. Both are then shrunk slightly so that a whole number
    of pixels spans the box.
    """
    dy0 = math.degrees(resolution_m / radius_m)
    dx0 = dy0 / max(math.cos(math.radians((box.south + box.north) / 2)), 1e-6)
    width = max(1, math.ceil((box.east - box.west) / dx0 - 1e-9))
    height = max(1, math.ceil((box.north - box.south) / dy0 - 1e-9))
    return PixelGrid(
        box.west, box.north, (box.east - box.west) / width, (box.north - box.south) / height, width, height
    )


def split_grid(width: int, height: int, max_px: int) -> list[tuple[int, int, int, int]]:
    """Blocks (col, row, width, height) tiling a width x height grid, none wider or taller than max_px."""
    return [
        (c, r, min(max_px, width - c), min(max_px, height - r))
        for r in range(0, height, max_px)
        for c in range(0, width, max_px)
    ]


def getmap_params(
    layer: str, bounds: tuple[float, float, float, float], width: int, height: int, version: str, fmt: str
) -> dict[str, str]:
    """GetMap query for a lon/lat box. WMS 1.3.0 uses EPSG:4326's own axis order: lat first."""
    w, s, e, n = (f"{v:.10f}" for v in bounds)
    params = {
        "SERVICE": "WMS",
        "REQUEST": "GetMap",
        "VERSION": version,
        "LAYERS": "",
        "STYLES": "",
        "FORMAT": fmt,
        "WIDTH": str(width),
        "HEIGHT": str(height),
    }
    if version == "1.3.0":
        params |= {"CRS": "EPSG:4326", "BBOX": f"{s},{w},{n},{e}"}
    else:
        params |= {"SRS": "EPSG:4326", "BBOX": f"{w},{s},{e},{n}"}
    params["LAYERS"] = layer
    return params


def decode_tile(path: Path, width: int, height: int) -> np.ndarray:
    """An RGB uint8 array (3, height, width) from a GetMap response; raise on service exceptions."""
    data = path.read_bytes()
    head = data[:400].lstrip()
    if head.startswith(b"<"):
        text = data[:600].decode("utf-8", "replace")
        raise SourceError(f"{path}: the WMS answered with an XML/HTML message instead of an image: {text}")
    try:
        with warnings.catch_warnings():  # PNG/JPEG answers carry no georeferencing: we know the grid
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with MemoryFile(data) as mem, mem.open() as ds:
                arr = ds.read()
    except rasterio.RasterioIOError as exc:
        raise SourceError(f"{path}: not a readable image ({exc})") from None
    if arr.shape[1:] != (height, width):
        raise SourceError(f"{path}: image is {arr.shape[2]}x{arr.shape[1]} px, requested {width}x{height}")
    if arr.shape[0] == 1:
        arr = np.repeat(arr, 3, axis=0)
    if arr.shape[0] < 3 or arr.dtype != np.uint8:
        raise SourceError(f"{path}: expected an 8-bit RGB image, got {arr.shape[0]} band(s) of {arr.dtype}")
    return arr[:3]


class EoxSource(Source):
    """Sentinel-2 cloudless (EOX WMS) for ``earth_imagery``."""

    name: ClassVar[str] = "eox"
    inputs: ClassVar[frozenset[str]] = frozenset({"earth_imagery"})
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "pattern": "^https?://"},
            "year": {"enum": list(YEARS)},
            "layer": {"type": "string", "minLength": 1},
            "resolution_m": {"type": "number", "exclusiveMinimum": 0},
            "max_px": {"type": "integer", "minimum": 16, "maximum": 16384},
            "format": {"enum": list(FORMATS)},
            "wms_version": {"enum": ["1.1.1", "1.3.0"]},
            **POLICY_OPTIONS,
        },
    }

    def fetch_raster(self, input_name: str, box: BBox, out_path: Path) -> Path:
        """Fetch the box tile by tile and write one RGB GeoTIFF with the attribution in its tags."""
        if input_name not in self.inputs:
            return super().fetch_raster(input_name, box, out_path)
        opts = self.options
        year = int(opts.get("year", 2020))
        layer = opts.get("layer") or layer_name(year)
        fmt = opts.get("format", "image/jpeg")
        version = opts.get("wms_version", "1.1.1")
        url = opts.get("url", DEFAULT_URL)
        grid = plan_ground_grid(box, float(opts.get("resolution_m", 200.0)))
        blocks = split_grid(grid.width, grid.height, int(opts.get("max_px", 4096)))
        log.info(
            "EOX %s: %dx%d px in %d GetMap request(s) from %s",
            layer,
            grid.width,
            grid.height,
            len(blocks),
            url,
        )
        out_path = Path(out_path)
        cache = out_path.parent / f".{out_path.stem}.eox-tiles"
        items = []
        for col, row, w, h in blocks:
            params = getmap_params(layer, grid.bounds(col, row, w, h), w, h, version, fmt)
            key = hashlib.sha1(repr((url, sorted(params.items()))).encode()).hexdigest()[:16]
            items.append(DownloadItem(url, cache / f"r{row}_c{col}_{key}{FORMATS[fmt]}", params=params))
        download_many(items, policy=policy_from_options(opts), desc=f"EOX {layer}")
        mosaic = np.zeros((3, grid.height, grid.width), dtype=np.uint8)
        for (col, row, w, h), item in zip(blocks, items, strict=True):
            try:
                mosaic[:, row : row + h, col : col + w] = decode_tile(item.dest, w, h)
            except SourceError as exc:
                item.dest.unlink()  # never reuse a bad tile on a re-run
                raise SourceError(f"{url} GetMap {item.params['BBOX']}: {exc}") from None
        profile = {
            "driver": "GTiff",
            "dtype": "uint8",
            "count": 3,
            "width": grid.width,
            "height": grid.height,
            "crs": EARTH_GEOGRAPHIC,
            "transform": grid.transform,
            "compress": "deflate",
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
            "photometric": "RGB",
        }
        with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(mosaic)
            dst.update_tags(
                AREOGRAPH_SOURCE=f"eox:{layer}",
                ATTRIBUTION=attribution(year),
                LICENCE=licence(year),
                TIFFTAG_COPYRIGHT=attribution(year),
                AREA_OR_POINT="Area",
            )
        shutil.rmtree(cache, ignore_errors=True)
        return out_path
