"""A rendered region: the terraformed mosaic (a COG), its lon/lat footprint and the two PNGs people open.

``terraformed.tif`` is the georeferenced product (render/mosaic.py writes it, the viewer and the planet
assembly read it); ``terraformed.geojson`` its footprint (geo/footprint.py); ``quicklook.png`` and
``side_by_side.png`` (hillshade | terraformed) the pictures.

``terraformed_mars.tif`` (``results/mars/planet/``, beside the regions) is the whole-planet mosaic: every
planned region's ``terraformed.tif`` feathered into one global COG (render/planet.py assembles it).

``hypsometry.json`` (``results/mars/``, beside the regions) holds the Mars heights of every region of a run
as quantiles: the one Mars distribution the ``quantile`` rule maps from, so that every region of the run,
and every neighbour on the planet, shares one height map (render/mosaic.py ``mars_hypsometry`` writes it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from areograph.artefacts.roles import files_by_role

MOSAIC_FILES = {
    "tif": "terraformed.tif",
    "footprint": "terraformed.geojson",
    "quicklook": "quicklook.png",
    "side_by_side": "side_by_side.png",
}

PLANET_MOSAIC = "terraformed_mars.tif"

HYPSOMETRY = "hypsometry.json"


def hypsometry_json(quantiles_m: Sequence[float], regions: Sequence[str], n_values: int) -> str:
    """The hypsometry file's text: quantiles (m, ascending, at levels (k + 0.5) / n), regions, sample size."""
    return json.dumps(
        {
            "quantiles_m": [round(float(q), 2) for q in quantiles_m],
            "regions": list(regions),
            "n_values": n_values,
        },
        indent=1,
    )


def read_hypsometry(path: Path | str) -> np.ndarray:
    """The Mars height quantiles of a run (m); errors name the file."""
    path = Path(path)
    try:
        values = np.asarray(json.loads(path.read_text())["quantiles_m"], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable Mars hypsometry ({exc})") from exc
    if values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError(f"{path}: a hypsometry needs at least two finite quantiles")
    return values


def mosaic_files(region_dir: Path | str) -> dict[str, Path]:
    """Every product of a rendered region folder, by role (the keys of :data:`MOSAIC_FILES`)."""
    return files_by_role(region_dir, MOSAIC_FILES)
