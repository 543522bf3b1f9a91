"""Bring your own rasters: any file (or glob of files, or VRT) GDAL reads, in any CRS on the planet.

Options: ``path`` — one raster, a VRT, or a glob such as ``/data/dem/*.tif`` whose files share one CRS
and band layout (they are mosaicked, first file on top). The requested lon/lat box is warped out of
the files into the planet's geographic CRS at the files' own resolution, so the delivered GeoTIFF has
exactly the form of the live sources' (nodata / mask where the files have no data).
"""

from __future__ import annotations

import glob
import math
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyproj
import rasterio
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import RasterioError
from rasterio.io import MemoryFile
from rasterio.merge import merge
from rasterio.transform import from_origin
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds

from areograph.geo.crs import geographic_crs
from areograph.geo.geotiff import write_geotiff
from areograph.sources import INPUT_PLANET, BBox, Source, SourceError

ELEVATION_NODATA = -32768


def expand_paths(pattern: str) -> list[Path]:
    """The files a ``path`` option names: itself if it exists, else its glob matches (sorted)."""
    p = Path(pattern).expanduser()
    if p.is_file():
        return [p]
    matches = sorted(Path(m) for m in glob.glob(str(p)) if Path(m).is_file())
    if not matches:
        raise SourceError(f"{pattern}: no file matches this path or glob")
    return matches


def _open_all(paths: list[Path]) -> list[rasterio.DatasetReader]:
    opened = []
    try:
        for p in paths:
            try:
                opened.append(rasterio.open(p))
            except RasterioError as exc:
                raise SourceError(f"{p}: cannot read as a raster: {exc}") from exc
            if opened[-1].crs is None:
                raise SourceError(f"{p}: raster has no CRS")
    except SourceError:
        for ds in opened:
            ds.close()
        raise
    return opened


class FilesSource(Source):
    """Serves any raster input from the user's own files (``options.path``)."""

    name: ClassVar[str] = "files"
    inputs: ClassVar[frozenset[str]] = frozenset(INPUT_PLANET)
    options_schema: ClassVar[dict] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {
            "path": {"type": "string", "description": "a raster, a VRT, or a glob of rasters"},
            "resampling": {"enum": ["nearest", "bilinear", "average"]},
        },
    }

    def fetch_raster(self, input_name: str, box: BBox, out_path: Path) -> Path:
        """Warp the part of the files under ``box`` into the planet's lon/lat CRS and write it."""
        if input_name not in self.inputs:
            return super().fetch_raster(input_name, box, out_path)
        paths = expand_paths(self.options["path"])
        datasets = _open_all(paths)
        try:
            crs = {ds.crs for ds in datasets}
            if len(crs) > 1:
                raise SourceError(
                    f"{self.options['path']}: files mix CRSs {sorted(c.to_string() for c in crs)}"
                )
            if len({ds.count for ds in datasets}) > 1:
                raise SourceError(f"{self.options['path']}: files differ in band count")
            return self._write_box(input_name, datasets, box, Path(out_path))
        finally:
            for ds in datasets:
                ds.close()

    def _write_box(self, input_name: str, datasets: list, box: BBox, out_path: Path) -> Path:
        first = datasets[0]
        planet = INPUT_PLANET[input_name]
        dst_crs = rasterio.CRS.from_wkt(geographic_crs(planet).to_wkt())
        elevation = input_name.endswith("elevation")
        nodata = first.nodata if first.nodata is not None else (ELEVATION_NODATA if elevation else None)
        resampling = Resampling[self.options.get("resampling", "bilinear" if elevation else "average")]
        with MemoryFile() as mem:
            src = self._mosaic(datasets, box, planet, nodata, mem) if len(datasets) > 1 else first
            # Output pixel size: the source's, expressed in degrees at the box centre.
            res = _degrees_per_pixel(src, box, planet)
            width = max(1, math.ceil((box.east - box.west) / res[0]))
            height = max(1, math.ceil((box.north - box.south) / res[1]))
            transform = from_origin(box.west, box.north, res[0], res[1])
            with WarpedVRT(
                src,
                crs=dst_crs,
                transform=transform,
                width=width,
                height=height,
                resampling=resampling,
                src_nodata=src.nodata,
                nodata=nodata,
                add_alpha=nodata is None,
            ) as vrt:
                bands = [
                    i for i, ci in zip(vrt.indexes, vrt.colorinterp, strict=True) if ci != ColorInterp.alpha
                ]
                data = vrt.read(bands)
                valid = vrt.dataset_mask() > 0
                dtype = data.dtype
            if not valid.any():
                raise SourceError(
                    f"{self.options['path']}: no data inside box {box} (files cover "
                    f"{tuple(round(b, 4) for b in first.bounds)} in {first.crs.to_string()})"
                )
            profile = {
                "driver": "GTiff",
                "crs": dst_crs,
                "transform": transform,
                "width": width,
                "height": height,
                "count": len(bands),
                "dtype": dtype.name,
                "nodata": nodata,
                "compress": "deflate",
            }
            if len(bands) == 3 and dtype == np.uint8:
                profile["photometric"] = "RGB"
            write_geotiff(
                out_path, data, profile, None if nodata is not None else valid,
                {"AREOGRAPH_SOURCE": f"files:{self.options['path']}"},
            )  # fmt: skip
        return out_path

    def _mosaic(self, datasets: list, box: BBox, planet: str, nodata: float | None, mem: MemoryFile):
        """Mosaic several files (first on top) over the box plus a margin, in their own CRS, into ``mem``."""
        planet_crs = rasterio.CRS.from_wkt(geographic_crs(planet).to_wkt())
        first = datasets[0]
        w, s, e, n = transform_bounds(planet_crs, first.crs, box.west, box.south, box.east, box.north)
        # Snap to the first file's pixel grid (no resampling here) with a margin for the warp's kernels.
        t = first.transform
        c0, c1 = math.floor((w - t.c) / t.a) - 4, math.ceil((e - t.c) / t.a) + 4
        r0, r1 = math.floor((n - t.f) / t.e) - 4, math.ceil((s - t.f) / t.e) + 4
        bounds = (t.c + c0 * t.a, t.f + r1 * t.e, t.c + c1 * t.a, t.f + r0 * t.e)
        data, transform = merge(datasets, bounds=bounds, nodata=nodata)
        with mem.open(
            driver="GTiff",
            width=data.shape[2],
            height=data.shape[1],
            count=data.shape[0],
            dtype=data.dtype,
            crs=first.crs,
            transform=transform,
            nodata=nodata,
        ) as ds:
            ds.write(data)
        return mem.open()


def _degrees_per_pixel(src, box: BBox, planet: str) -> tuple[float, float]:
    """The source's pixel size in degrees of longitude and latitude at the box centre."""
    geo = geographic_crs(planet)
    src_crs = pyproj.CRS(src.crs.to_wkt())
    if src_crs.is_geographic:
        return abs(src.transform.a), abs(src.transform.e)
    lon, lat = (box.west + box.east) / 2, (box.south + box.north) / 2
    to_src = pyproj.Transformer.from_crs(geo, src_crs, always_xy=True)
    to_geo = pyproj.Transformer.from_crs(src_crs, geo, always_xy=True)
    x, y = to_src.transform(lon, lat)
    px = abs(src.transform.a)
    lon1, lat1 = to_geo.transform(x + px, y + px)
    return max(abs(lon1 - lon), 1e-9), max(abs(lat1 - lat), 1e-9)
