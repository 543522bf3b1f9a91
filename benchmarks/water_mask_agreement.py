"""How well the water masks agree with what the imagery shows, per region (docs/data.md).

For each region tile folder given: the share of water-mask pixels that look like water in the real imagery
(``areograph.evaluation.shoreline.water_looking``), the share of water-looking pixels outside the mask
(lakes the shoreline data sets call land, dark shadows), and their IoU. The masks come from the elevation
source (the seed's white sea) or GSHHG, never from the imagery.

    PYTHONPATH=src .venv/bin/python benchmarks/water_mask_agreement.py \\
        results/corpus/tiles/{andes,cali,nw,italy,ri,sierra}
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rasterio

from areograph.artefacts.tileset import region_raster
from areograph.evaluation.shoreline import water_agreement
from areograph.geo.geotiff import read_rgb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("regions", nargs="+", type=Path, help="tile folders holding imagery/ and water/")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/water_mask_agreement.json"))
    args = ap.parse_args()
    result = {}
    for folder in args.regions:
        rgb, valid = read_rgb(region_raster(folder / "imagery"))
        with rasterio.open(region_raster(folder / "water")) as src:
            water = src.read(1) == 1
            source = src.tags().get("AREOGRAPH_SOURCE", "?")
        figures = water_agreement(rgb, water, valid).items()
        # NaN (nothing to count) -> null
        result[folder.name] = {k: None if v != v else round(v, 4) for k, v in figures}
        result[folder.name]["mask_source"] = source
        print(folder.name, json.dumps(result[folder.name]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
