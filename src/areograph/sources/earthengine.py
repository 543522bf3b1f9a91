"""Earth elevation (SRTM) from Google Earth Engine, fetched in chunks within its request limits.

``getDownloadURL`` serves at most 32 MB of uncompressed pixels and 10,000 pixels per side per
request (``computePixels``: 48 MB, 32,768 px). We lay one lon/lat grid on the dataset's native pixel
spacing over the box, cut it into chunks that respect both limits, ask Earth Engine (the thin
``ee_client`` layer) for one GeoTIFF URL per chunk, fetch them with the resilient downloader, check
each chunk's georeferencing and paste them into one GeoTIFF with nodata declared.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import rasterio
from affine import Affine

from areograph.artefacts.types import BBox, PixelGrid, SourceError
from areograph.atomic import atomic_path
from areograph.download import POLICY_OPTIONS, DownloadItem, download_many, policy_from_options
from areograph.geo.crs import EARTH_GEOGRAPHIC
from areograph.sources import Source
from areograph.sources.ee_client import EarthEngineClient, UrlProvider, resolve_credentials
from areograph.sources.raster_window import centred_box

log = logging.getLogger(__name__)

# asset id -> (band, native pixel step in degrees): 1 and 3 arc-seconds.
DATASETS: dict[str, tuple[str, float]] = {
    "USGS/SRTMGL1_003": ("elevation", 1 / 3600),
    "CGIAR/SRTM90_V4": ("elevation", 1 / 1200),
}
MAX_REQUEST_BYTES = 32 * 1024 * 1024  # getDownloadURL: "maximum request size is 32 MB"
MAX_GRID_PX = 10_000  # getDownloadURL: "maximum grid dimension is 10000"
NODATA = -32768
BYTES_PER_PX = 2  # int16


@dataclass(frozen=True)
class Chunk:
    """A block of the full grid: pixel offsets and size."""

    col: int
    row: int
    width: int
    height: int


def plan_native_grid(box: BBox, step_deg: float) -> PixelGrid:
    """A grid on the dataset's native spacing covering ``box``, pixel centres on multiples of the step.

    SRTM samples lie on whole arc-seconds, so pixel *edges* sit half a step off; snapping outwards
    to those edges lets Earth Engine return native samples without resampling.
    """
    west = (math.floor(box.west / step_deg - 0.5 + 1e-9) + 0.5) * step_deg
    north = (math.ceil(box.north / step_deg + 0.5 - 1e-9) - 0.5) * step_deg
    width = math.ceil((box.east - west) / step_deg - 1e-9)
    height = math.ceil((north - box.south) / step_deg - 1e-9)
    return PixelGrid(west, north, step_deg, step_deg, width, height)


def plan_chunks(
    width: int,
    height: int,
    bytes_per_px: int = BYTES_PER_PX,
    max_bytes: int = MAX_REQUEST_BYTES,
    max_side: int = MAX_GRID_PX,
) -> list[Chunk]:
    """Cut a width x height grid into the fewest near-square chunks within both request limits."""
    max_px = max_bytes // bytes_per_px
    if max_px < 1 or max_side < 1:
        raise ValueError("request limits leave no room for a single pixel")
    side = max(1, min(max_side, math.isqrt(max_px)))
    n_cols = math.ceil(width / min(side, width))
    cw = math.ceil(width / n_cols)  # balance the columns
    ch_max = min(max_side, max_px // cw)
    n_rows = math.ceil(height / min(ch_max, height))
    ch = math.ceil(height / n_rows)
    return [
        Chunk(c, r, min(cw, width - c), min(ch, height - r))
        for r in range(0, height, ch)
        for c in range(0, width, cw)
    ]


def assemble(grid: PixelGrid, chunks: list[Chunk], paths: list[Path], nodata: int = NODATA) -> np.ndarray:
    """Paste chunk GeoTIFFs into the full grid, checking each one's size and georeferencing."""
    out = np.full((grid.height, grid.width), nodata, dtype=np.int16)
    for chunk, path in zip(chunks, paths, strict=True):
        with rasterio.open(path) as ds:
            want = Affine(
                grid.dx, 0, grid.west + chunk.col * grid.dx, 0, -grid.dy, grid.north - chunk.row * grid.dy
            )
            if (ds.width, ds.height) != (chunk.width, chunk.height):
                raise SourceError(
                    f"{path}: chunk is {ds.width}x{ds.height} px, requested {chunk.width}x{chunk.height}"
                )
            if ds.crs is None or not ds.crs.is_geographic:
                raise SourceError(f"{path}: chunk CRS {ds.crs} is not geographic")
            if not ds.transform.almost_equals(want, precision=1e-3 * grid.dx):
                raise SourceError(
                    f"{path}: chunk georeferencing {tuple(ds.transform)[:6]} differs from the "
                    f"requested {tuple(want)[:6]}"
                )
            data = ds.read(1)
            if ds.nodata is not None and ds.nodata != nodata:
                data = np.where(data == ds.nodata, nodata, data)
        out[chunk.row : chunk.row + chunk.height, chunk.col : chunk.col + chunk.width] = data
    return out


class EarthEngineSource(Source):
    """SRTM elevation (``USGS/SRTMGL1_003`` or ``CGIAR/SRTM90_V4``) for ``earth_elevation``."""

    name: ClassVar[str] = "earthengine"
    inputs: ClassVar[frozenset[str]] = frozenset({"earth_elevation"})
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "dataset": {"enum": list(DATASETS)},
            "band": {"type": "string", "minLength": 1},
            "step_deg": {"type": "number", "exclusiveMinimum": 0},
            "service_account_key": {"type": "string", "minLength": 1},
            "project": {"type": "string", "minLength": 1},
            "max_request_bytes": {"type": "integer", "minimum": 1024, "maximum": 48 * 1024 * 1024},
            "max_grid_px": {"type": "integer", "minimum": 16, "maximum": 32768},
            **POLICY_OPTIONS,
        },
    }

    def __init__(
        self, options: Any = None, data_root: Path | None = None, client: UrlProvider | None = None
    ) -> None:
        super().__init__(options, data_root)
        self._client = client

    def client(self) -> UrlProvider:
        """The Earth Engine URL provider (created on first use, so config checks need no ``ee``)."""
        if self._client is None:
            self._client = EarthEngineClient(resolve_credentials(self.options))
        return self._client

    def fetch_raster(self, input_name: str, box: BBox, out_path: Path) -> Path:
        """Fetch the box in chunks and write one int16 GeoTIFF (EPSG:4326, nodata -32768)."""
        if input_name not in self.inputs:
            return super().fetch_raster(input_name, box, out_path)
        opts = self.options
        asset = opts.get("dataset", "USGS/SRTMGL1_003")
        default_band, default_step = DATASETS[asset]
        band = opts.get("band", default_band)
        box = centred_box(box)  # a config written in 0..360 longitudes asks for 240 E = 120 W
        grid = plan_native_grid(box, float(opts.get("step_deg", default_step)))
        chunks = plan_chunks(
            grid.width,
            grid.height,
            BYTES_PER_PX,
            int(opts.get("max_request_bytes", MAX_REQUEST_BYTES)),
            int(opts.get("max_grid_px", MAX_GRID_PX)),
        )
        log.info(
            "Earth Engine %s/%s: %dx%d px in %d chunk(s)", asset, band, grid.width, grid.height, len(chunks)
        )
        out_path = Path(out_path)
        cache = out_path.parent / f".{out_path.stem}.ee-chunks"
        items: list[DownloadItem] = []
        for ch in chunks:
            transform = (
                grid.dx,
                0.0,
                grid.west + ch.col * grid.dx,
                0.0,
                -grid.dy,
                grid.north - ch.row * grid.dy,
            )
            key = hashlib.sha1(repr((asset, band, transform, ch.width, ch.height)).encode()).hexdigest()[:16]
            dest = cache / f"r{ch.row}_c{ch.col}_{key}.tif"
            url = (
                ""
                if dest.is_file()
                else self.client().download_url(
                    asset, band, EARTH_GEOGRAPHIC, transform, ch.width, ch.height, NODATA
                )
            )
            items.append(DownloadItem(url, dest))
        download_many([it for it in items if it.url], policy=policy_from_options(opts), desc=f"EE {asset}")
        try:
            data = assemble(grid, chunks, [it.dest for it in items])
        except (SourceError, rasterio.RasterioIOError) as exc:
            shutil.rmtree(cache, ignore_errors=True)  # never reuse a bad chunk
            raise SourceError(f"Earth Engine {asset}: {exc}") from None
        profile = {
            "driver": "GTiff",
            "dtype": "int16",
            "count": 1,
            "width": grid.width,
            "height": grid.height,
            "crs": EARTH_GEOGRAPHIC,
            "transform": grid.transform,
            "nodata": NODATA,
            "compress": "deflate",
            "predictor": 2,
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
        }
        with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data, 1)
            dst.update_tags(AREOGRAPH_SOURCE=f"earthengine:{asset}/{band}", AREA_OR_POINT="Area")
        shutil.rmtree(cache, ignore_errors=True)
        return out_path
