"""Steps per second of the real pix2pix training step, at demo and reference model sizes.

Times :func:`areograph.training.trainer.pix2pix_step` (D update + G update, bf16 autocast on CUDA) on
random 256 px tiles, so the demo's training budget can be set from a measured cost per step.

    .venv/bin/python benchmarks/train_throughput.py --steps 3          # demo + reference sizes
    .venv/bin/python benchmarks/train_throughput.py --ngf 16 --steps 20

Prints JSON records {device, ngf, ndf, steps_per_s, ...} and writes benchmarks/results/train_throughput.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

from areograph.atomic import atomic_path
from areograph.models.init import init_weights
from areograph.models.registry import build_model
from areograph.training.precision import resolve_precision
from areograph.training.trainer import pix2pix_step, resolve_device

RESULTS = Path(__file__).parent / "results" / "train_throughput.json"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_pix2pix_step(
    ngf: int,
    ndf: int,
    depth: int,
    tile_px: int,
    batch_size: int,
    steps: int,
    warmup: int,
    device: torch.device,
) -> dict[str, Any]:
    """Mean wall time of ``steps`` pix2pix updates after ``warmup`` untimed ones, for one model size."""
    torch.manual_seed(0)
    gen = init_weights(build_model("unet", in_channels=1, out_channels=3, ngf=ngf, depth=depth)).to(device)
    disc = init_weights(build_model("patchgan", in_channels=4, ndf=ndf, n_layers=3)).to(device)
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    cond = torch.rand(batch_size, 1, tile_px, tile_px, device=device) * 2 - 1
    target = torch.rand(batch_size, 3, tile_px, tile_px, device=device) * 2 - 1
    autocast = functools.partial(resolve_precision("auto", device).autocast, device)
    for _ in range(warmup):
        pix2pix_step(gen, disc, opt_g, opt_d, cond, target, 100.0, autocast)
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        pix2pix_step(gen, disc, opt_g, opt_d, cond, target, 100.0, autocast)
    _sync(device)
    seconds = (time.perf_counter() - start) / steps
    return {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "ngf": ngf,
        "ndf": ndf,
        "depth": depth,
        "tile_px": tile_px,
        "batch_size": batch_size,
        "bf16_autocast": device.type == "cuda",
        "params_g_m": round(sum(p.numel() for p in gen.parameters()) / 1e6, 3),
        "params_d_m": round(sum(p.numel() for p in disc.parameters()) / 1e6, 3),
        "timed_steps": steps,
        "s_per_step": round(seconds, 4),
        "steps_per_s": round(1.0 / seconds, 3),
    }


def main() -> None:
    """Run the benchmark for each requested size; print and save the JSON records."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ngf", type=int, nargs="+", default=[16, 64], help="generator widths (ndf = ngf)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--tile-px", type=int, default=256)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    records = []
    for ngf in args.ngf:
        record = time_pix2pix_step(
            ngf, ngf, args.depth, args.tile_px, args.batch_size, args.steps, args.warmup, device
        )
        print(json.dumps(record), flush=True)
        records.append(record)
    if len(records) > 1:
        base = records[0]["steps_per_s"]
        for r in records:
            r["slowdown_vs_first"] = round(base / r["steps_per_s"], 2)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(records, indent=2) + "\n")
    print(json.dumps(records, indent=2))


if __name__ == "__main__":
    main()
