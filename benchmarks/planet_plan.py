"""Whole Mars at scale: the plan's size, the planet target's dry-run time, and the projected render time.

Measures, in one run: the planner (regions, tiles per side, model windows for every region), the wall
time of ``snakemake -n planet`` with configs/planet.yaml against the default config's dry run (the
baseline, same run), and windows/s of the shipped generator through the real render path
(render/windows.predict_blended) on this CPU. The projected wall time is windows / (windows/s) for
one render process; a GPU figure is projected only from a rate passed in (``--gpu-windows-per-s``),
else reported as not measured. Prints JSON and writes benchmarks/results/planet_plan.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from areograph.geo.planet import planet_plan
from areograph.render.mosaic import generator_predictor
from areograph.render.planet import windows_per_region
from areograph.render.windows import predict_blended
from areograph.training.checkpoint import load_generator, load_model_meta

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def dry_run(*args: str) -> tuple[int, float]:
    """Job count and wall time of one ``snakemake -n`` in the repository."""
    start = time.perf_counter()
    run = subprocess.run(
        [SNAKEMAKE, "-n", "--cores", "2", "--quiet", "rules", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    elapsed = time.perf_counter() - start
    match = re.search(r"^total\s+(\d+)", run.stdout + run.stderr, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no job total in snakemake output:\n{run.stdout}\n{run.stderr}")
    return int(match.group(1)), elapsed


def windows_per_s(model_path: Path, side_px: int, window_px: int, overlap_px: int, repeats: int) -> float:
    """Windows/s of the shipped generator over a ``side_px`` square through predict_blended (best run)."""
    model = load_generator(model_path)
    channels = len(load_model_meta(model_path).conditioning)
    image = np.random.default_rng(0).uniform(-1, 1, (channels, side_px, side_px)).astype(np.float32)
    predict = generator_predictor(model)
    n = windows_per_region(side_px, window_px, overlap_px)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        predict_blended(image, predict, window_px, overlap_px)
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--overlay", type=Path, default=ROOT / "configs" / "planet.yaml")
    parser.add_argument("--side-px", type=int, default=640, help="square rendered to measure windows/s")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--gpu-windows-per-s", type=float, default=None, help="a rate measured on a GPU")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "planet_plan.json")
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    overlay = yaml.safe_load(args.overlay.read_text())
    config["planet"] = overlay["planet"]
    tile_px, render = config["tiles"]["size_px"], dict(config["render"])
    render["window_px"] = render["window_px"] or tile_px  # null = the model's tile size (the config's)
    start = time.perf_counter()
    plan = planet_plan(config)
    plan_s = time.perf_counter() - start
    assert plan is not None
    per_region = windows_per_region(plan.tiles_per_side * tile_px, render["window_px"], render["overlap_px"])
    windows = per_region * len(plan.regions)
    base_jobs, base_s = min((dry_run() for _ in range(args.repeats)), key=lambda r: r[1])
    jobs, planet_s = min(
        (dry_run("--configfile", str(args.overlay), "--", "planet") for _ in range(args.repeats)),
        key=lambda r: r[1],
    )
    torch.set_num_threads(max(1, torch.get_num_threads()))
    cpu_rate = windows_per_s(
        ROOT / render["weights"], args.side_px, render["window_px"], render["overlap_px"], args.repeats
    )
    result = {
        "benchmark": "planet_plan",
        "plan": {
            "regions": len(plan.regions),
            "tiles_per_side": plan.tiles_per_side,
            "bands": plan.bands,
            "region_side_km": plan.region_side_m / 1000,
            "overlap_km": plan.overlap_m / 1000,
            "cap_lat_deg": round(plan.cap_lat, 3),
            "max_scale_error": plan.max_scale_error,
            "plan_seconds": plan_s,
        },
        "render": {
            "window_px": render["window_px"],
            "overlap_px": render["overlap_px"],
            "windows_per_region": per_region,
            "windows": windows,
        },
        "dry_run": {
            "jobs": jobs,
            "seconds": planet_s,
            "baseline_jobs": base_jobs,
            "baseline_seconds": base_s,
            "time_ratio": planet_s / base_s,
            "goal_seconds": 10,
        },
        "cpu": {
            "machine": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "windows_per_s": cpu_rate,
            "projected_hours_one_process": windows / cpu_rate / 3600,
        },
        "gpu": (
            {
                "windows_per_s": args.gpu_windows_per_s,
                "projected_hours_one_gpu": windows / args.gpu_windows_per_s / 3600,
            }
            if args.gpu_windows_per_s
            else "not measured"
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
