"""Full-resolution crops: what a person sees zoomed in on a terraformed mosaic, beside real imagery.

A downscaled quicklook hides lattices and smears; the product is judged at 1:1. This cuts 512 native
pixels (102 km at 200 m/px) from a held-out Earth region rendered by a model (beside the real
Sentinel-2 imagery and the elevation's hillshade) and from Mars renders (dry and flooded), and writes
one picture of 1:1 crops plus a JSON of where each crop lies and its lattice ratios.

    PYTHONPATH=src .venv/bin/python benchmarks/terrain_crops.py \\
        --model weights/terrain_pix2pix/model.pt --region results/corpus/tiles/italy \\
        --mars dry=terraformed/gale/gale.tif --mars "lake=terraformed/gale_lake/gale_lake.tif" \\
        --out docs/img/terrain_crops.jpg
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image, ImageDraw

from areograph.evaluation.lattice import lattice_ratios
from areograph.evaluation.terrain import read_whole_region
from areograph.geo.geotiff import read_rgb
from areograph.render.mosaic import hillshade, predict_earth_region

CROP_PX = 512
GAP_PX = 8


def _windows(valid: np.ndarray) -> list[tuple[int, int]]:
    """Every 512 px window origin on a half-crop grid with at most 1 % nodata (coasts carry a few
    nodata pixels where the elevation and the imagery masks disagree)."""
    h, w = valid.shape
    step = CROP_PX // 2
    return [(y, x) for y in range(0, h - CROP_PX + 1, step) for x in range(0, w - CROP_PX + 1, step)
            if valid[y : y + CROP_PX, x : x + CROP_PX].mean() >= 0.99]  # fmt: skip


def earth_crops(valid: np.ndarray, elev: np.ndarray, water: np.ndarray | None) -> dict[str, tuple[int, int]]:
    """Two telling crops of a region: the coast (water share nearest 35 %) and the most relief."""
    origins = _windows(valid)
    if not origins:
        raise SystemExit("no fully valid 512 px window in the region")
    relief = [float(np.ptp(elev[y : y + CROP_PX, x : x + CROP_PX])) for y, x in origins]
    out = {"relief": origins[int(np.argmax(relief))]}
    if water is not None:
        share = [abs(float(water[y : y + CROP_PX, x : x + CROP_PX].mean()) - 0.35) for y, x in origins]
        out = {"coast": origins[int(np.argmin(share))]} | out
    return out


def _cut(img: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    y, x = origin
    return img[y : y + CROP_PX, x : x + CROP_PX]


def _labelled(img: np.ndarray, label: str) -> Image.Image:
    """The crop with its label in a dark box at the top left (the crop itself stays 1:1)."""
    pic = Image.fromarray(np.ascontiguousarray(img)).convert("RGB")
    draw = ImageDraw.Draw(pic)
    box = draw.textbbox((6, 4), label)
    draw.rectangle((box[0] - 4, box[1] - 3, box[2] + 4, box[3] + 3), fill=(0, 0, 0))
    draw.text((6, 4), label, fill=(255, 255, 255))
    return pic


def sheet(rows: list[list[tuple[str, np.ndarray]]]) -> Image.Image:
    """Rows of labelled 512 px crops on a white sheet, 1:1."""
    cols = max(len(r) for r in rows)
    size = (cols * CROP_PX + (cols - 1) * GAP_PX, len(rows) * CROP_PX + (len(rows) - 1) * GAP_PX)
    out = Image.new("RGB", size, (255, 255, 255))
    for i, row in enumerate(rows):
        for j, (label, img) in enumerate(row):
            out.paste(_labelled(img, label), (j * (CROP_PX + GAP_PX), i * (CROP_PX + GAP_PX)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--region", type=Path, required=True, help="tile-set folder of a held-out region")
    parser.add_argument(
        "--mars", action="append", default=[], help="LABEL=terraformed.tif (same region, all)"
    )
    parser.add_argument("--mars-elevation", type=Path, help="the Mars region's elevation GeoTIFF (hillshade)")
    parser.add_argument("--overlap-px", type=int, default=128)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    folders = {"elevation": args.region / "elevation", "imagery": args.region / "imagery"}
    if (args.region / "water").is_dir():
        folders["water"] = args.region / "water"
    region = read_whole_region(folders)
    elev, valid, water = region["elev"], region["valid"], region["water"]
    model = predict_earth_region(
        elev, valid, region["profile"], args.model, None, args.overlap_px, water=water
    )
    shade = hillshade(elev, valid, abs(region["profile"]["transform"].a))
    record: dict = {"model": str(args.model), "region": str(args.region), "crop_px": CROP_PX, "crops": {}}
    rows = []
    for name, origin in earth_crops(valid, elev, water).items():
        rows.append([(f"{args.region.name} {name}: elevation", _cut(shade, origin)),
                     ("real Sentinel-2", _cut(region["real"], origin)),
                     ("model", _cut(model, origin))])  # fmt: skip
        record["crops"][f"{args.region.name}_{name}"] = {
            "origin_yx": list(origin),
            "lattice_real": lattice_ratios(_cut(region["real"], origin)),
            "lattice_model": lattice_ratios(_cut(model, origin)),
        }
    mars = [(label, *read_rgb(Path(path))) for label, path in (m.split("=", 1) for m in args.mars)]
    if mars:
        valid_all = np.logical_and.reduce([v for _, _, v in mars])
        h, w = valid_all.shape
        origin = ((h - CROP_PX) // 2, (w - CROP_PX) // 2)  # the centre: Gale's Aeolis Mons and crater floor
        row = []
        if args.mars_elevation:
            with rasterio.open(args.mars_elevation) as ds:
                m_elev = ds.read(1).astype(np.float32)
                m_shade = hillshade(m_elev, ds.read_masks(1) > 0, abs(ds.transform.a))
            row.append(("Mars elevation", _cut(m_shade, origin)))
        for label, rgb, _ in mars:
            row.append((f"Mars {label}", _cut(rgb, origin)))
            record["crops"][f"mars_{label}"] = {
                "origin_yx": list(origin),
                "lattice": lattice_ratios(_cut(rgb, origin)),
            }
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet(rows).save(args.out, quality=90)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1, default=float) + "\n")
    print(json.dumps(record["crops"], indent=1, default=float))


if __name__ == "__main__":
    main()
