"""Which up- and downsampling draws no lattice, and what does the water input cost the land? Equal training,
scored on a whole region never trained on.

Each variant of the generator (models.pix2pix ``upsample`` x ``downsample``, and the inputs) is trained the
same number of steps on the same packed training tiles, through the project's own
``terraform.train_terrain``; then a whole held-out region is rendered through
``render.mosaic.predict_earth_region`` (blended windows, as the product is) and scored: the lattice ratio
per period (``areograph.evaluation.lattice``, beside the real imagery's own), the texture and palette
distances, and the realism test (``areograph.evaluation.realism``); and, on the region's 256 px squares
without any water (land only), texture, palette and 1.6 km block L1: what the water input must not make
worse (issue 19).

    PYTHONPATH=src .venv/bin/python benchmarks/upsampling_trial.py \\
        --packed results/corpus/datasets/terrain_pairs.npz --region results/corpus/tiles/italy \\
        --steps 1500 --ngf 16 --out benchmarks/results/upsampling_trial.json

Prints and writes JSON: per variant, seconds per step and every figure; the real imagery's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import torch

from areograph.evaluation.terrain import read_whole_region, whole_region_figures
from areograph.evaluation.texture import block_l1, palette_swd, texture_swd
from areograph.render.mosaic import predict_earth_region
from areograph.terraform import train_terrain

# name -> models.pix2pix sampling keys, and optionally the generator's inputs (default: --conditioning)
VARIANTS = {
    "transposed+strided (reference)": {"upsample": "transposed", "downsample": "strided"},
    "bilinear+strided": {"upsample": "bilinear", "downsample": "strided"},
    "bilinear+blur": {"upsample": "bilinear", "downsample": "blur"},
    "bilinear+blur, blur_up 1": {"upsample": "bilinear", "downsample": "blur", "blur_up": 1},
    "bilinear+blur, blur_up 8": {"upsample": "bilinear", "downsample": "blur", "blur_up": 8},
    "subpixel+blur": {"upsample": "subpixel", "downsample": "blur"},
    "nearest+blur": {"upsample": "nearest", "downsample": "blur"},
    "bilinear+blur, elevation only": {
        "upsample": "bilinear",
        "downsample": "blur",
        "conditioning": ["elevation"],
    },
    "bilinear+blur, blur_up 8, elevation only": {
        "upsample": "bilinear",
        "downsample": "blur",
        "blur_up": 8,
        "conditioning": ["elevation"],
    },
}


def _figures(rgb: np.ndarray, region: dict, seed: int) -> dict:
    """The evaluation's whole-region figures (lattice per period, realism, water IoU), with texture and
    palette over the region's valid 256 px squares."""
    valid = region["valid"]
    whole = whole_region_figures(region["real"], {"model": rgb}, valid, region["water"], seed)
    tiles = []
    h, w = valid.shape
    for y in range(0, h - 255, 256):
        for x in range(0, w - 255, 256):
            if valid[y : y + 256, x : x + 256].all():
                tiles.append((y, x))
    water = np.zeros(valid.shape, bool) if region["water"] is None else region["water"]
    land = [(y, x) for y, x in tiles if not water[y : y + 256, x : x + 256].any()]

    def stacks(origins: list[tuple[int, int]]) -> list[np.ndarray]:
        return [np.stack([im[y : y + 256, x : x + 256] for y, x in origins]).astype(np.float32) / 255.0
                for im in (rgb, region["real"])]  # fmt: skip

    stack, land_stack = stacks(tiles), stacks(land)
    unit = [x[valid][None, :, None, :].astype(np.float32) / 255.0 for x in (rgb, region["real"])]
    land_px = [x.reshape(1, -1, 1, 3) for x in land_stack]
    return whole["methods"]["model"] | {
        "texture": round(texture_swd(stack[0], stack[1], seed=seed)["mean"], 2),
        "palette": round(palette_swd(unit[0], unit[1], seed=seed), 3),
        "land_tiles": len(land),
        "land_texture": round(texture_swd(land_stack[0], land_stack[1], seed=seed)["mean"], 2),
        "land_palette": round(palette_swd(land_px[0], land_px[1], seed=seed), 3),
        "land_block_l1": round(block_l1(land_stack[0], land_stack[1]), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packed", type=Path, required=True)
    ap.add_argument("--region", type=Path, required=True, help="a held-out region's tile folder")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--ngf", type=int, default=16)
    ap.add_argument("--conditioning", nargs="+", default=["elevation", "water"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--work", type=Path, default=Path("results/trial"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/upsampling_trial.json"))
    ap.add_argument("--keep", action="store_true", help="keep the variants already in --out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    layers = ("elevation", "imagery", "water")
    region = read_whole_region({k: args.region / k for k in layers if (args.region / k).is_dir()})
    result = {
        "region": args.region.name,
        "steps": args.steps,
        "ngf": args.ngf,
        "conditioning": args.conditioning,
        "load_average": os.getloadavg(),
        "real": whole_region_figures(region["real"], {}, region["valid"], region["water"], 0)["real"],
        "variants": {},
    }
    if args.keep and args.out.is_file():
        before = json.loads(args.out.read_text())
        if any(before.get(k) != result[k] for k in ("region", "steps", "ngf")):
            raise SystemExit(f"{args.out}: another region, steps or ngf; --keep adds to the same setup only")
        result["variants"] = before["variants"]
    sizes = {"ngf": args.ngf, "ndf": args.ngf, "depth": None, "d_layers": 3, "dropout": 0.5}
    training = {"steps": args.steps, "batch_size": 1, "lr": 2e-4, "beta1": 0.5, "lambda_l1": 100,
                "decay_start_fraction": 0.5, "checkpoint_every": max(args.steps // 4, 1), "seed": 0,
                "device": "cpu"}  # fmt: skip
    for name in args.variants:
        folder = args.work / re.sub(r"[^a-z0-9]+", "_", name.split(" (")[0].lower()).strip("_")
        variant = dict(VARIANTS[name])
        conditioning = variant.pop("conditioning", args.conditioning)
        models = {"pix2pix": sizes | variant, "baseline": {"width": 32}}  # each variant on the same sizes
        t0 = time.perf_counter()
        model = train_terrain("pix2pix", args.packed, models, training, 256, (-500, 9000), folder,
                              threads=args.threads, conditioning=conditioning)  # fmt: skip
        train_s = time.perf_counter() - t0
        rgb = predict_earth_region(region["elev"], region["valid"], region["profile"], Path(model), None, 96,
                                   water=region["water"])  # fmt: skip
        figures = _figures(rgb, region, seed=0) | {
            "s_per_step": round(train_s / args.steps, 3),
            "conditioning": conditioning,
        }
        result["variants"][name] = figures
        print(name, json.dumps(figures), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
