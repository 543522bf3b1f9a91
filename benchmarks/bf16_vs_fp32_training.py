"""Does bf16 training change what the demo terrain model produces? Train it twice, score both.

The demo pix2pix (config.yaml models and training, on the sample's packed Earth pairs) is trained with
``training.precision: fp32`` and with the default (bf16 + channels_last where the CPU has native bf16),
same seed and steps, then both are scored by the project's evaluation (terrain_eval.evaluate_terrain)
beside the baselines: one example grid with both models side by side, one metrics JSON. Also records
each run's wall time. A GAN's trajectory is chaotic, so any change of arithmetic gives another model;
``--seed-control`` adds an fp32 run with another seed, whose distance from the first fp32 run is what
chance alone moves the figures by. Writes benchmarks/results/bf16_vs_fp32_training.json and
docs/img/bf16_vs_fp32_training.png (the example grid) + docs/img/bf16_vs_fp32_training_metrics.png.

    PYTHONPATH=src .venv/bin/python benchmarks/bf16_vs_fp32_training.py results/datasets/terrain_pairs.npz
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
import yaml

from areograph.atomic import atomic_path
from areograph.evaluation.terrain import evaluate_terrain
from areograph.terraform import train_terrain
from areograph.training.precision import resolve_precision

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bf16_vs_fp32_training.json"
IMG = ROOT / "docs" / "img"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("packed", type=Path, help="the sample's terrain_pairs.npz (make run writes it)")
    parser.add_argument("--steps", type=int, default=None, help="default: config.yaml training.steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seed-control", action="store_true", help="also fp32 at seed + 1")
    args = parser.parse_args()
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    default = resolve_precision(cfg["training"].get("precision", "auto"), "cpu")
    runs = {"fp32": {"precision": "fp32", "channels_last": False}, default.name.replace(" + ", "_"): {}}
    if args.seed_control:
        runs["fp32_seed_plus_1"] = runs["fp32"] | {"seed": cfg["training"]["seed"] + 1}
    doc: dict = {"benchmark": "bf16_vs_fp32_training", "default": default.name, "reason": default.reason,
                 "load_1min_before": round(os.getloadavg()[0], 2), "runs": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        models = {}
        for name, overrides in runs.items():
            training = cfg["training"] | overrides | ({"steps": args.steps} if args.steps else {})
            start = time.perf_counter()
            models[f"pix2pix_{name}"] = train_terrain(
                "pix2pix", args.packed, cfg["models"], training, cfg["tiles"]["size_px"],
                cfg["elevation"]["earth_range_m"], Path(tmp) / name, args.threads,
                cfg["terrain_models"]["pix2pix"].get("conditioning", ["elevation"]),
            )  # fmt: skip
            doc["runs"][name] = {"steps": training["steps"], "wall_s": round(time.perf_counter() - start, 1)}
        doc["load_1min_after"] = round(os.getloadavg()[0], 2)
        out = Path(tmp) / "eval"
        out.mkdir()
        torch.set_num_threads(args.threads)
        files = (out / "metrics.json", out / "examples.png", out / "metrics.png")
        earth_range = cfg["elevation"]["earth_range_m"]
        result = evaluate_terrain(args.packed, models, earth_range, *files, n_examples=4)
        doc["metrics"] = {r: e["methods"] for r, e in result["regions"].items()}
        IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(out / "examples.png", IMG / "bf16_vs_fp32_training.png")
        shutil.copy(out / "metrics.png", IMG / "bf16_vs_fp32_training_metrics.png")
    with atomic_path(args.out) as tmp_json:
        tmp_json.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
