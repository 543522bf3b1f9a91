"""The project's pix2pix training step against a plain reference-equivalent, side by side in one run.

The baseline is benchmarks/reference_pix2pix.py (junyanz's networks and ``optimize_parameters``, fp32,
default memory format, no compile). The project's step is the trainer's own ``_Run.step`` (the code a
training job runs) at several settings of ``TrainConfig``. Same sizes: 256 px, ngf = ndf = 64, depth 8.
Timings are interleaved (A B C ... A B C ...) so load from other processes hits every variant alike, and
each ratio is reference median / variant median from this run. Also measured: whether the DataLoader
keeps up (seconds per batch of the real ``PairDataset`` + augmentation vs seconds per step), and on CUDA
images/s and model FLOP utilisation (FLOPs from ``torch.utils.flop_counter``, peak looked up or given).

    PYTHONPATH=src .venv/bin/python benchmarks/train_vs_reference.py                 # CPU, batch 1 and 16
    PYTHONPATH=src .venv/bin/python benchmarks/train_vs_reference.py --device cuda --compile

Writes benchmarks/results/train_vs_reference_<device>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from reference_pix2pix import ReferencePix2Pix

from areograph.atomic import atomic_path
from areograph.data.pairs import PairDataset
from areograph.training.precision import CPUINFO, native_bf16_flag, parse_cpu_flags, resolve_precision
from areograph.training.schedule import StepSampler
from areograph.training.trainer import TrainConfig, _Run, resolve_device

RESULTS = Path(__file__).parent / "results"
# Dense bf16 tensor-core peaks (TFLOP/s, no sparsity) from the vendors' data sheets.
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0, "L4": 121.0}
# name -> (TrainConfig overrides, compile); "project" is the trainer's default on the device (precision
# auto: bf16 + channels_last where native, training/precision.py); "project_fp32" forces fp32.
VARIANTS: dict[str, tuple[dict[str, Any], bool]] = {
    "project": ({}, False),
    "project_fp32": ({"precision": "fp32", "channels_last": False}, False),
    "project_compile": ({}, True),
}


def cpu_peak(threads: int) -> dict[str, Any]:
    """Estimated fp32 and bf16 peak GFLOP/s of ``threads`` cores: cores x clock x FLOP per cycle.

    FLOP per cycle per core from the CPU's flags and vendor (x2 for a fused multiply-add): AVX2/FMA
    cores (and AMD Zen 4, whose AVX-512 runs on 256-bit pipes) issue two 8-wide fp32 FMAs = 32; Intel
    AVX-512 server cores two 16-wide = 64. bf16: avx512_bf16 (VDPBF16PS, two bf16 products per fp32
    lane) doubles the fp32 rate; amx_bf16 tiles are 1024 per cycle. Clock: the highest ``cpu MHz`` in
    /proc/cpuinfo (the nominal clock under a hypervisor; boost is not counted).
    """
    text = CPUINFO.read_text() if CPUINFO.exists() else ""
    flags = parse_cpu_flags(text)
    mhz = max((float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)), default=0.0)
    amd = "AuthenticAMD" in text
    fp32 = 64 if ("avx512f" in flags and not amd) else 32 if {"avx2", "fma"} <= flags else 16
    bf16 = 1024 if "amx_bf16" in flags else 2 * fp32 if "avx512_bf16" in flags else None
    ghz = mhz / 1000
    return {
        "cores": threads,
        "clock_ghz": round(ghz, 3),
        "fp32_flop_per_cycle_per_core": fp32,
        "bf16_flop_per_cycle_per_core": bf16,
        "peak_fp32_gflops": round(threads * ghz * fp32, 1),
        "peak_bf16_gflops": round(threads * ghz * bf16, 1) if bf16 else None,
        "basis": "cores x clock (cpu MHz) x FLOP/cycle from the flags; see cpu_peak()",
    }


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _specs(ngf: int, ndf: int) -> dict[str, dict[str, Any]]:
    return {
        "generator": {
            "name": "unet",
            "kwargs": {"in_channels": 1, "out_channels": 3, "ngf": ngf, "depth": 8},
        },
        "discriminator": {"name": "patchgan", "kwargs": {"in_channels": 4, "ndf": ndf, "n_layers": 3}},
    }


def _params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def project_step(
    overrides: dict[str, Any], compile_: bool, ngf: int, batch: dict[str, torch.Tensor], device: torch.device
) -> tuple[Callable[[], Any], _Run]:
    """The trainer's step at these settings, as a closure over a fixed batch."""
    torch.manual_seed(0)
    cfg = TrainConfig(steps=10**6, batch_size=len(batch["cond"]), device=device.type, **overrides)
    run = _Run(_specs(ngf, ngf), cfg, device)
    run.setup(world=1)
    if compile_:
        run.wrapped = {r: torch.compile(n) for r, n in run.wrapped.items()}
    return lambda: run.step(batch), run


def reference_step(ngf: int, batch: dict[str, torch.Tensor], device: torch.device) -> tuple[Callable, Any]:
    """The reference-equivalent's ``optimize_parameters`` on the same batch."""
    torch.manual_seed(0)
    ref = ReferencePix2Pix(ngf, ngf, 8, str(device))
    cond, target = batch["cond"].to(device), batch["target"].to(device)
    return lambda: ref.optimize_parameters(cond, target), ref


def step_flops(step: Callable[[], Any]) -> int:
    """FLOPs of one step as counted by torch's FlopCounterMode (convs, matmuls; x2 per MAC)."""
    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def _packed(path: Path, n: int, tile_px: int) -> Path:
    """A packed pairs file with the real layout (random content): what PairDataset reads in training."""
    rng = np.random.default_rng(0)
    np.savez(
        path,
        elevation=rng.uniform(-500, 4000, (n, tile_px, tile_px)).astype(np.float32),
        imagery=rng.integers(0, 256, (n, tile_px, tile_px, 3), dtype=np.uint8),
        split=np.array(["train"] * n),
        tile_id=np.array([f"t{i}" for i in range(n)]),
        region=np.array(["bench"] * n),
    )
    return path


def loader_s_per_batch(batch_size: int, workers: int, batches: int, device: torch.device) -> float:
    """Seconds per batch of the trainer's DataLoader setup (keyed sampler, augmentation) over a real file."""
    with tempfile.TemporaryDirectory() as tmp:
        ds = PairDataset(_packed(Path(tmp) / "pairs.npz", 32, 256), "train", (-500.0, 4000.0), load_px=286)
        loader = DataLoader(
            ds,
            batch_size=batch_size,
            sampler=StepSampler(len(ds), batch_size, 0, 0, 0, 1, keyed=True),
            num_workers=workers,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,
        )
        it = iter(loader)
        next(it)  # worker start-up is paid once per run
        start = time.perf_counter()
        for _ in range(batches):
            next(it)
        return (time.perf_counter() - start) / batches


def bench_batch(args: argparse.Namespace, batch_size: int, device: torch.device) -> dict[str, Any]:
    """All variants at one batch size, interleaved; medians, ratios, and CUDA throughput figures."""
    torch.manual_seed(1)
    batch = {
        "cond": torch.rand(batch_size, 1, 256, 256) * 2 - 1,
        "target": torch.rand(batch_size, 3, 256, 256) * 2 - 1,
    }
    load_before = round(os.getloadavg()[0], 2)
    steps: dict[str, Callable[[], Any]] = {}
    ref_fn, ref = reference_step(args.ngf, batch, device)
    steps["reference"] = ref_fn
    record: dict[str, Any] = {"batch_size": batch_size, "compile_s": {}}
    runs = {}
    for name in args.variants:
        overrides, compile_ = VARIANTS[name]
        steps[name], runs[name] = project_step(overrides, compile_, args.ngf, batch, device)
    proj = runs[args.variants[0]]
    counts = {
        "reference_g": _params(ref.netG),
        "reference_d": _params(ref.netD),
        "project_g": _params(proj.nets["generator"]),
        "project_d": _params(proj.nets["discriminator"]),
    }
    record["params"] = counts
    record["params_match"] = (counts["reference_g"], counts["reference_d"]) == (
        counts["project_g"],
        counts["project_d"],
    )
    for name, fn in steps.items():  # warm-up (and compilation, timed separately)
        start = time.perf_counter()
        for _ in range(args.warmup):
            fn()
        _sync(device)
        if VARIANTS.get(name, ({}, False))[1]:
            record["compile_s"][name] = round(time.perf_counter() - start, 1)
    times: dict[str, list[float]] = {n: [] for n in steps}
    for _ in range(args.steps):
        for name, fn in steps.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    medians = {n: statistics.median(t) for n, t in times.items()}
    fastest_each = {n: min(t) for n, t in times.items()}
    record["s_per_step"] = {n: round(m, 4) for n, m in medians.items()}
    # On a shared CPU the least-disturbed of the interleaved steps is the better estimate of the cost.
    record["speedup_vs_reference_min"] = {
        n: round(fastest_each["reference"] / m, 3) for n, m in fastest_each.items()
    }
    record["all_s"] = {n: [round(x, 4) for x in t] for n, t in times.items()}
    record["speedup_vs_reference"] = {n: round(medians["reference"] / m, 3) for n, m in medians.items()}
    record["images_per_s"] = {n: round(batch_size / m, 2) for n, m in medians.items()}
    flops = step_flops(steps["reference"])
    record["model_tflop_per_step"] = round(flops / 1e12, 3)
    peak = args.peak_tflops or next(
        (
            v
            for k, v in PEAK_BF16_TFLOPS.items()
            if device.type == "cuda" and k in torch.cuda.get_device_name()
        ),
        None,
    )
    if peak:
        record["peak_tflops"] = peak
        record["mfu"] = {n: round(flops / m / (peak * 1e12), 4) for n, m in medians.items()}
    if device.type == "cpu":  # model FLOP utilisation against the estimated fp32 and bf16 peaks
        cpu = cpu_peak(torch.get_num_threads())
        record["achieved_gflops"] = {n: round(flops / m / 1e9, 1) for n, m in medians.items()}
        record["mfu_vs_fp32_peak"] = {
            n: round(flops / m / (cpu["peak_fp32_gflops"] * 1e9), 3) for n, m in medians.items()
        }
        if cpu["peak_bf16_gflops"]:
            record["mfu_vs_bf16_peak"] = {
                n: round(flops / m / (cpu["peak_bf16_gflops"] * 1e9), 3) for n, m in medians.items()
            }
    record["load_1min"] = {"before": load_before, "after": round(os.getloadavg()[0], 2)}
    record["loader_s_per_batch"] = {
        f"workers_{w}": round(loader_s_per_batch(batch_size, w, args.loader_batches, device), 4)
        for w in args.loader_workers
    }
    fastest = min(medians[n] for n in args.variants)
    record["loader_keeps_up"] = {k: v < fastest for k, v in record["loader_s_per_batch"].items()}
    return record


def main() -> None:
    """Run every batch size; print and save one JSON document."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--ngf", type=int, default=64, help="ngf = ndf of both models")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per variant (interleaved)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=None,
        choices=sorted(VARIANTS),
        help="default: all (compile: with --compile)",
    )
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="device peak for MFU (CUDA: looked up)"
    )
    parser.add_argument("--loader-workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--loader-batches", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.variants is None:
        args.variants = [n for n, (_, c) in VARIANTS.items() if args.compile or not c]
    doc: dict[str, Any] = {
        "benchmark": "train_vs_reference",
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_flags": sorted(
            f for f in parse_cpu_flags(CPUINFO.read_text() if CPUINFO.exists() else "")
            if re.match(r"avx|amx|fma|f16c|sse4", f)
        ),
        "native_bf16": native_bf16_flag(parse_cpu_flags(CPUINFO.read_text() if CPUINFO.exists() else "")),
        "default_precision": resolve_precision("auto", device).name,
        "cpu_peak": cpu_peak(torch.get_num_threads()) if device.type == "cpu" else None,
        "sizes": {"tile_px": 256, "ngf": args.ngf, "ndf": args.ngf, "depth": 8},
        "timed_steps": args.steps,
        "warmup_steps": args.warmup,
        "results": [],
    }
    for batch_size in args.batch_sizes:
        record = bench_batch(args, batch_size, device)
        print(json.dumps(record), flush=True)
        doc["results"].append(record)
    out = args.out or RESULTS / f"train_vs_reference_{device.type}.json"
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
