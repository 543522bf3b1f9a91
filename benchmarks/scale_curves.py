"""Scale curves: train step vs batch size, render time vs region size, tiling vs GDAL's raw warp.

1. The trainer's pix2pix step (``_Run.step``, default settings) at batch 1, 2, 4, 8, 16, 256 px, small ngf.
2. ``predict_blended`` with the shipped terrain generator over synthetic elevation of 1, 4, 16, 64 tiles of
   256 px, at the configured window and overlap.
3. ``reproject_to_grid`` (window read, masks, GeoTIFF write) of 1, 4, 16, 64 tile regions of the sample Gale
   MOLA raster against a raw ``rasterio.warp.reproject`` (GDAL's warper) of the same source, same grid.

    PYTHONPATH=src .venv/bin/python benchmarks/scale_curves.py

Writes benchmarks/results/scale_curves.json and docs/img/scale_curves.png.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import rasterio
import torch
import yaml
from rasterio.warp import Resampling, reproject

from areograph.atomic import atomic_path
from areograph.geo.grid import region_grid
from areograph.geo.tiling import reproject_to_grid
from areograph.render.mosaic import generator_predictor
from areograph.render.windows import predict_blended
from areograph.training.checkpoint import load_generator
from areograph.training.trainer import TrainConfig, _Run

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "scale_curves.json"
PLOT = ROOT / "docs" / "img" / "scale_curves.png"
GALE = (137.8, -5.4)


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def train_curve(ngf: int, batches: list[int], steps: int) -> list[dict[str, Any]]:
    """Seconds per step and images/s of the trainer's step at each batch size (best of ``steps``)."""
    out = []
    for b in batches:
        torch.manual_seed(0)
        specs = {
            "generator": {
                "name": "unet",
                "kwargs": {"in_channels": 1, "out_channels": 3, "ngf": ngf, "depth": 8},
            },
            "discriminator": {"name": "patchgan", "kwargs": {"in_channels": 4, "ndf": ngf, "n_layers": 3}},
        }
        run = _Run(specs, TrainConfig(steps=10**6, batch_size=b, device="cpu"), torch.device("cpu"))
        run.setup(world=1)
        batch = {"cond": torch.rand(b, 1, 256, 256) * 2 - 1, "target": torch.rand(b, 3, 256, 256) * 2 - 1}
        run.step(batch)  # warm-up
        s = _best(lambda run=run, batch=batch: run.step(batch), steps)
        out.append({"batch_size": b, "s_per_step": round(s, 4), "images_per_s": round(b / s, 2)})
        print(json.dumps({"train": out[-1]}), flush=True)
    return out


def render_curve(
    model: Path, window: int, overlap: int, sides: list[int], repeats: int
) -> list[dict[str, Any]]:
    """Seconds to render n x n tiles of 256 px of smooth synthetic elevation (scaled to [-1, 1])."""
    predict = generator_predictor(load_generator(model))
    rng = np.random.default_rng(0)
    out = []
    for n in sides:
        px = 256 * n
        low = rng.uniform(-1, 1, (n * 4 + 1, n * 4 + 1)).astype(np.float32)
        cond = np.kron(low, np.ones((64, 64), np.float32))[:px, :px][None]
        s = _best(lambda cond=cond: predict_blended(cond, predict, window, overlap), repeats)
        out.append({"tiles": n * n, "px": px, "seconds": round(s, 3), "s_per_tile": round(s / (n * n), 4)})
        print(json.dumps({"render": out[-1]}), flush=True)
    return out


def raw_warp(src_path: Path, grid) -> np.ndarray:
    """GDAL's warper on the whole source into the region grid, nothing else (no window, mask or file)."""
    with rasterio.open(src_path) as src:
        dst = np.zeros((grid.height, grid.width), np.float32)
        reproject(
            src.read(1).astype(np.float32),
            dst,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=grid.transform,
            dst_crs=rasterio.crs.CRS.from_wkt(grid.crs.to_wkt()),
            resampling=Resampling.bilinear,
        )
    return dst


def tiling_curve(src: Path, sides: list[int], gsd_m: float, repeats: int) -> list[dict[str, Any]]:
    """reproject_to_grid vs raw warp for n x n tile regions centred on Gale; ratio raw / project."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sides:
            grid = region_grid(f"bench{n}", "mars", *GALE, n, n, 256, gsd_m)
            target = Path(tmp) / f"r{n}.tif"
            ours = _best(
                lambda grid=grid, target=target: reproject_to_grid(src, grid, target, "bilinear"), repeats
            )
            raw = _best(lambda grid=grid: raw_warp(src, grid), repeats)
            mpx = grid.width * grid.height / 1e6
            out.append(
                {
                    "tiles": n * n,
                    "px": grid.width,
                    "project_s": round(ours, 4),
                    "raw_warp_s": round(raw, 4),
                    "project_mpx_per_s": round(mpx / ours, 2),
                    "raw_warp_mpx_per_s": round(mpx / raw, 2),
                    "raw_over_project": round(raw / ours, 3),
                }
            )
            print(json.dumps({"tiling": out[-1]}), flush=True)
    return out


def plot(doc: dict[str, Any], out: Path) -> None:
    """Three panels: the three curves."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=110)
    t = doc["train"]
    axes[0].plot([r["batch_size"] for r in t], [r["images_per_s"] for r in t], "o-")
    axes[0].set(
        xscale="log",
        xlabel="batch size",
        ylabel="images / s",
        title=f"train step, ngf {doc['train_ngf']}, 256 px (CPU)",
    )
    axes[0].set_xticks([r["batch_size"] for r in t], [str(r["batch_size"]) for r in t])
    r = doc["render"]
    axes[1].plot([x["tiles"] for x in r], [x["seconds"] for x in r], "o-")
    axes[1].set(
        xscale="log",
        yscale="log",
        xlabel="region size, tiles of 256 px",
        ylabel="seconds",
        title=f"render, window {doc['render_window']}, overlap {doc['render_overlap']}",
    )
    g = doc["tiling"]
    axes[2].plot(
        [x["tiles"] for x in g], [x["project_mpx_per_s"] for x in g], "o-", label="reproject_to_grid"
    )
    axes[2].plot([x["tiles"] for x in g], [x["raw_warp_mpx_per_s"] for x in g], "s--", label="raw GDAL warp")
    axes[2].set(
        xscale="log", xlabel="region size, tiles", ylabel="output Mpx / s", title="tiling vs raw warp"
    )
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def main() -> None:
    """Run the three curves; print and save JSON, and the plot."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train-ngf", type=int, default=8)
    parser.add_argument("--train-batches", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--train-steps", type=int, default=2)
    parser.add_argument("--render-sides", type=int, nargs="+", default=[1, 2, 4, 8], help="n: n x n tiles")
    parser.add_argument(
        "--tiling-gsd-m", type=float, default=50.0, help="small enough to stay inside the DEM"
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--model", type=Path, default=ROOT / "weights/terrain_pix2pix/model.pt")
    parser.add_argument("--dem", type=Path, default=ROOT / "data/sample/mars/mola_megdr_gale_128ppd.tif")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    render_cfg = config["render"]
    # window null = the model's tile size, the config's tile size for the shipped weights
    window, overlap = render_cfg["window_px"] or config["tiles"]["size_px"], render_cfg["overlap_px"]
    doc = {
        "benchmark": "scale_curves",
        "torch_threads": torch.get_num_threads(),
        "train_ngf": args.train_ngf,
        "render_window": window,
        "render_overlap": overlap,
        "tiling_gsd_m": args.tiling_gsd_m,
        "train": train_curve(args.train_ngf, args.train_batches, args.train_steps),
        "render": render_curve(args.model, window, overlap, args.render_sides, args.repeats),
        "tiling": tiling_curve(args.dem, args.render_sides, args.tiling_gsd_m, args.repeats),
    }
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
    plot(doc, args.plot)
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
