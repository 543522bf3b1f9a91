"""The one interface every data source implements, and the registry that picks one by name.

A source delivers files in a fixed form whatever service it talks to, so nothing downstream knows
where data came from:

* raster inputs (``earth_elevation``, ``earth_imagery``, ``earth_water``, ``mars_elevation``): one
  GeoTIFF in the planet's geographic CRS (EPSG:4326 / IAU_2015:49900) covering the requested lon/lat
  box, nodata declared where the service has no data (``earth_water``: uint8, 1 = sea, 0 = land);
* collection inputs (``rover_colour``, ``rover_grey``): image files in one folder plus a
  ``MANIFEST.csv`` whose first column is ``file``.

Adapters are imported lazily so that a missing optional client library (earthengine-api) only
matters to users who select that adapter.
"""

from __future__ import annotations

import importlib
from abc import ABC
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from areograph.artefacts.types import BBox, SourceError

__all__ = ["BBox", "Source", "SourceError", "get_source"]

RASTER_INPUTS = ("earth_elevation", "earth_imagery", "earth_water", "mars_elevation")
COLLECTION_INPUTS = ("rover_colour", "rover_grey")
INPUT_PLANET = {
    "earth_elevation": "earth",
    "earth_imagery": "earth",
    "earth_water": "earth",
    "mars_elevation": "mars",
}
# Inputs a config may leave out of `sources:`, and who serves them then: the sea from GSHHG needs no
# service, so configs written before the water layer keep working.
DEFAULT_SOURCES: dict[str, dict[str, Any]] = {"earth_water": {"adapter": "landmask"}}

# adapter name -> "module:Class"; the module is imported only when the adapter is used.
ADAPTERS: dict[str, str] = {
    "sample": "areograph.sources.sample:SampleSource",
    "landmask": "areograph.sources.landmask:LandmaskSource",
    "pix2pix_terraform": "areograph.sources.pix2pix_terraform:Pix2PixTerraformSource",
    "files": "areograph.sources.files:FilesSource",
    "earthengine": "areograph.sources.earthengine:EarthEngineSource",
    "eox": "areograph.sources.eox:EoxSource",
    "usgs": "areograph.sources.usgs:UsgsSource",
    "nasa_raw": "areograph.sources.nasa_raw:NasaRawSource",
    "pds": "areograph.sources.pds:PdsSource",
    "mars_photos": "areograph.sources.nasa_raw:MarsPhotosSource",
    "msl_surface": "areograph.sources.msl_surface:MslSurfaceSource",
}


class Source(ABC):
    """Base of every adapter. Subclasses set ``name`` and ``inputs`` and override the fetchers."""

    name: ClassVar[str]
    inputs: ClassVar[frozenset[str]]
    # JSON schema of this adapter's `options:` in config.yaml; unknown option keys are rejected.
    options_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False}

    def __init__(self, options: Mapping[str, Any] | None = None, data_root: Path | None = None) -> None:
        self.options = dict(options or {})
        self.data_root = Path(data_root) if data_root else None

    def fetch_raster(self, input_name: str, box: BBox, out_path: Path) -> Path:
        """Write one GeoTIFF covering ``box`` for ``input_name`` to ``out_path`` (atomically)."""
        raise SourceError(f"source {self.name!r} does not serve raster input {input_name!r}")

    def fetch_collection(self, input_name: str, out_dir: Path) -> Path:
        """Fill ``out_dir`` with image files and a MANIFEST.csv for ``input_name`` (atomically)."""
        raise SourceError(f"source {self.name!r} does not serve collection input {input_name!r}")


def _adapter_class(name: str) -> type[Source]:
    try:
        module_name, cls_name = ADAPTERS[name].split(":")
    except KeyError:
        raise SourceError(f"unknown source adapter {name!r}; known: {sorted(ADAPTERS)}") from None
    return getattr(importlib.import_module(module_name), cls_name)


def adapter_inputs(name: str) -> frozenset[str]:
    """The config inputs an adapter can serve (used by config validation)."""
    return _adapter_class(name).inputs


def adapter_options_schema(name: str) -> dict[str, Any]:
    """The JSON schema of an adapter's ``options`` (used by config validation)."""
    return _adapter_class(name).options_schema


def get_source(name: str, options: Mapping[str, Any] | None = None, data_root: Path | None = None) -> Source:
    """Instantiate the adapter called ``name``."""
    return _adapter_class(name)(options=options, data_root=data_root)
