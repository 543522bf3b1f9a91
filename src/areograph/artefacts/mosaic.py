"""A rendered region: the terraformed mosaic (a COG), its lon/lat footprint and the two PNGs people open.

``terraformed.tif`` is the georeferenced product (render/mosaic.py writes it, the viewer and the planet
assembly read it); ``terraformed.geojson`` its footprint (geo/footprint.py); ``quicklook.png`` and
``side_by_side.png`` (hillshade | terraformed) the pictures.
"""

from __future__ import annotations

from pathlib import Path

from areograph.artefacts.roles import files_by_role

MOSAIC_FILES = {
    "tif": "terraformed.tif",
    "footprint": "terraformed.geojson",
    "quicklook": "quicklook.png",
    "side_by_side": "side_by_side.png",
}


def mosaic_files(region_dir: Path | str) -> dict[str, Path]:
    """Every product of a rendered region folder, by role (the keys of :data:`MOSAIC_FILES`)."""
    return files_by_role(region_dir, MOSAIC_FILES)
