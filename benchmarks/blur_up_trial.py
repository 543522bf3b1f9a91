"""What does a blur before the finest upsamplings do to trained weights? No training: the same weights,
rebuilt with ``blur_up`` = 0, 1, 2, ..., rendered over a whole held-out region and scored.

The generator's spec is rebuilt with each ``blur_up`` and the file's weights loaded into it by name
(``training.checkpoint.init_from_file``: the blurs are fixed buffers), so the figures say how much of a
model's lattice comes from its finest upsamplings and what the blur costs its texture before any
fine-tuning. Scored as in ``upsampling_trial.py`` (lattice per period, realism, texture, palette, land).

    PYTHONPATH=src .venv/bin/python benchmarks/blur_up_trial.py \\
        --model weights/terrain_pix2pix_stage1/model.pt \\
        --region results/corpus/tiles/italy --blur-up 0 1 2 --out benchmarks/results/blur_up_trial.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from upsampling_trial import _figures

from areograph.evaluation.terrain import read_whole_region
from areograph.models.registry import build_model
from areograph.render.mosaic import predict_earth_region
from areograph.training.checkpoint import init_from_file, load_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--region", type=Path, required=True, help="a held-out region's tile folder")
    ap.add_argument("--blur-up", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--overlap", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/blur_up_trial.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    layers = ("elevation", "imagery", "water")
    region = read_whole_region({k: args.region / k for k in layers if (args.region / k).is_dir()})
    spec = load_file(args.model)["generator"]["spec"]
    result = {"model": str(args.model), "region": args.region.name, "spec": spec,
              "load_average": os.getloadavg(), "blur_up": {}}  # fmt: skip
    for n in args.blur_up:
        kwargs = {k: v for k, v in spec["kwargs"].items() if k != "blur_up"} | ({"blur_up": n} if n else {})
        net = build_model(spec["name"], **kwargs)
        init_from_file({"generator": net}, args.model)
        rgb = predict_earth_region(region["elev"], region["valid"], region["profile"], args.model, None,
                                   args.overlap, water=region["water"], generator=net)  # fmt: skip
        result["blur_up"][str(n)] = _figures(rgb, region, seed=0)
        print(n, json.dumps(result["blur_up"][str(n)]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
