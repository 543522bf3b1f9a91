"""The offline sample (``data/sample``) served through the same interface as the live adapters.

Raster inputs are cropped to the requested box exactly as a live service would answer a bounding-box
request; rover collections are copied with a MANIFEST.csv. See data/sample/README.md for provenance.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

import rasterio

from areograph.artefacts.collection import manifest_path, write_manifest
from areograph.atomic import atomic_dir, atomic_path
from areograph.sources import BBox, Source, SourceError
from areograph.sources.raster_window import RasterWindowError, read_box

DEFAULT_ROOT = Path(__file__).resolve().parents[3] / "data" / "sample"

RASTER_FILES = {
    "earth_elevation": "earth/srtm_sierra_nevada_west_90m.tif",
    "earth_imagery": "earth/s2cloudless2020_sierra_nevada_west.tif",
    "mars_elevation": "mars/mola_megdr_gale_128ppd.tif",
}
COLLECTION_DIRS = {"rover_colour": "rovers/colour", "rover_grey": "rovers/opportunity"}
COLLECTION_PATTERNS = {"rover_colour": ("*.JPG", "*.jpg"), "rover_grey": ("*.IMG",)}
ELEVATION_NODATA = -32768


class SampleSource(Source):
    """Serves every input from the offline sample folder (``options.root`` overrides its path)."""

    name: ClassVar[str] = "sample"
    inputs: ClassVar[frozenset[str]] = frozenset(RASTER_FILES) | frozenset(COLLECTION_DIRS)
    options_schema: ClassVar[dict] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"root": {"type": "string"}},
    }

    @property
    def root(self) -> Path:
        return Path(self.options.get("root") or self.data_root or DEFAULT_ROOT)

    def fetch_raster(self, input_name: str, box: BBox, out_path: Path) -> Path:
        """Crop the sample raster to ``box``; fail naming the file if the box misses it entirely.

        The box may use the other longitude convention than the file, and may cross the antimeridian
        of a global file (see :mod:`areograph.sources.raster_window`).
        """
        src_path = self.root / RASTER_FILES[input_name]
        if not src_path.is_file():
            raise SourceError(f"{src_path}: sample file missing (copy ../shared/sample-data to data/sample)")
        with rasterio.open(src_path) as src:
            try:  # whole pixels covering the box, as a service answers; across 180 deg on a global file
                data, transform = read_box(src, box, what="sample file")
            except RasterWindowError as exc:
                named = str(exc) if str(src_path) in str(exc) else f"{src_path}: {exc}"
                raise SourceError(named) from None
            profile = {
                "driver": "GTiff",
                "dtype": src.dtypes[0],
                "count": src.count,
                "crs": src.crs,
                "width": data.shape[2],
                "height": data.shape[1],
                "transform": transform,
                "nodata": ELEVATION_NODATA if input_name.endswith("elevation") else src.nodata,
                "compress": "deflate",
            }
            if src.count == 3:
                profile["photometric"] = "RGB"
            tags = src.tags()
        with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data)
            dst.update_tags(**tags, AREOGRAPH_SOURCE=f"sample:{RASTER_FILES[input_name]}")
        return out_path

    def fetch_collection(self, input_name: str, out_dir: Path) -> Path:
        """Copy the sample frames and write MANIFEST.csv (the colour set ships its own)."""
        src_dir = self.root / COLLECTION_DIRS[input_name]
        files = sorted({p for pat in COLLECTION_PATTERNS[input_name] for p in src_dir.glob(pat)})
        if not files:
            raise SourceError(f"{src_dir}: no sample files for {input_name}")
        with atomic_dir(out_dir) as tmp:
            for f in files:
                shutil.copy2(f, tmp / f.name)
            manifest = manifest_path(src_dir)
            if manifest.is_file():
                shutil.copy2(manifest, manifest_path(tmp))
            else:
                origin = f"sample:{COLLECTION_DIRS[input_name]}"
                write_manifest(tmp, ["file", "origin"], [[f.name, origin] for f in files])
        return out_dir
