"""Sol-block cross-validation of the colour methods inside the MSL training split (issue 20).

The authors' val split (sols 182-564) holds 158 scenery frames; the training split (sols 3-180) holds
about 2,500. This cuts the training split's sols into ``--folds`` contiguous blocks of about equal
frame counts; for each block it packs the other blocks as training and the block as validation
(``data.colour.pack_patches`` with ``val_sols``, so every frame of a sol falls on one side), trains each
method exactly as the workflow does (``config.colour_method_settings`` + ``colourise.train_colour``),
and scores the held-out block with the workflow's ``evaluation.colour.evaluate_colour``, against the
constant mean colour of that fold's own training frames. Neighbouring sols can share a scene, so
a contiguous block leaks only at its two edges.

    PYTHONPATH=src .venv/bin/python benchmarks/colour_sol_blocks.py --config configs/colouriser_msl.yaml \\
        --methods global_colourful l1 --folds 3 --jobs 2

Needs the config's quality-filtered frames (``snakemake --configfile configs/colouriser_msl.yaml
pack_colour_patches``, under ``results_dir``/rovers/kept). Writes per fold and pooled over folds, per
class group, every method's and the mean colour's figures to ``--out`` (JSON), with wall times and
the load average; the fold models and metrics stay under ``--work`` (a rerun reuses them).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from areograph.artefacts.collection import manifest_path, read_manifest, write_manifest
from areograph.artefacts.evaluation import EXAMPLES_PNG, METRICS_JSON
from areograph.artefacts.model_dir import MODEL_FILE
from areograph.artefacts.packed import COLOUR_PATCHES
from areograph.colourise import train_colour
from areograph.config import colour_method_settings, load_config
from areograph.data.colour import pack_patches
from areograph.evaluation.colour import BASELINES, summary_table

SPLIT_KEYS = ("split", "val_sols", "val_fraction")


def sol_blocks(sols: list[int], folds: int) -> list[list[int]]:
    """Contiguous blocks of the sorted distinct sols, each holding about 1/folds of the frames."""
    distinct, counts = np.unique(np.asarray(sols), return_counts=True)
    ends = np.cumsum(counts) / counts.sum()
    block = np.minimum((ends - counts / counts.sum() / 2) * folds, folds - 1).astype(int)
    return [[int(s) for s in distinct[block == k]] for k in range(folds)]


def pack_fold(kept: Path, header: list[str], rows: list[dict], val_sols: list[int], patches: dict,
              fold_dir: Path) -> Path:  # fmt: skip
    """The fold's packed patches: the training split's frames, ``val_sols`` held out (reused if there)."""
    packed = fold_dir / COLOUR_PATCHES
    if not packed.is_file():
        fold_dir.mkdir(parents=True, exist_ok=True)
        manifest = write_manifest(fold_dir, header, rows)
        options = {k: v for k, v in patches.items() if k not in SPLIT_KEYS}
        pack_patches(kept, manifest, packed, split="sol", val_sols=val_sols, **options)
    return packed


def train_one(method: str, rovers: dict, packed: Path, out_dir: Path, steps: int | None) -> tuple[str, float]:
    """Train one method on one fold (skipped if its model file exists); (model file, seconds)."""
    model = out_dir / MODEL_FILE
    if model.is_file():
        return str(model), 0.0
    s = colour_method_settings(rovers, method)
    training = s["training"] | ({"steps": steps} if steps else {})
    start = time.perf_counter()
    train_colour(s["kind"], packed, s["colouriser"], rovers["baseline"], training, out_dir, threads=1,
                 sampling=s["sampling"])  # fmt: skip
    return str(model), time.perf_counter() - start


def evaluate_fold(kept: Path, packed: Path, models: dict[str, str], rovers: dict, fold_dir: Path) -> dict:
    """The workflow's evaluation of one fold's held-out block (reused if its metrics exist)."""
    import torch

    from areograph.config import window_override
    from areograph.evaluation.colour import evaluate_colour

    out = fold_dir / METRICS_JSON
    if not out.is_file():
        torch.set_num_threads(1)
        render = rovers["render"]
        windows = (render["window_px"], render["overlap_px"])
        evaluate_colour(kept, packed, models, *windows, out, fold_dir / EXAMPLES_PNG, 8,
                        window_override(render), None, rovers["quality"])  # fmt: skip
    return json.loads(out.read_text())


def ratios(change_pct: dict, methods: list[str]) -> dict:
    """Each method's mean CIEDE2000 as a fraction of the constant mean colour's, per group: the
    evaluation's own ``ciede2000_change_vs_mean_colour_pct`` as a ratio (the issue's targets are ratios)."""
    return {m: {g: 1.0 + pct / 100.0 for g, pct in change_pct[m].items()} for m in methods}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path("configs/colouriser_msl.yaml"))
    parser.add_argument("--methods", nargs="+", help="colour methods (default: rovers.ship and l1)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="override the methods' training steps")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at once, one thread each")
    parser.add_argument("--work", type=Path, default=None, help="default: <results_dir>/sol_blocks")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/colour_sol_blocks.json"))
    args = parser.parse_args()

    config = load_config(args.config)
    rovers = config["rovers"]
    methods = args.methods or list(dict.fromkeys([rovers["ship"], "l1"]))
    for m in methods:
        colour_method_settings(rovers, m)  # an unknown method stops here, before any work
    results_dir = Path(config.get("results_dir") or "results")
    kept = results_dir / "rovers" / "kept"
    work = args.work or results_dir / "sol_blocks"
    header, rows = read_manifest(manifest_path(kept))
    train_rows = [r for r in rows if r.get("split") == "train"]
    if not train_rows:
        raise SystemExit(f"{manifest_path(kept)}: no frames of the source's training split (split column)")
    blocks = sol_blocks([int(r["sol"]) for r in train_rows], args.folds)
    load_before, start = os.getloadavg(), time.perf_counter()

    packs = [pack_fold(kept, header, train_rows, b, rovers["patches"], work / f"fold{k}")
             for k, b in enumerate(blocks)]  # fmt: skip
    jobs = [(k, m) for k in range(len(blocks)) for m in methods]
    ctx = get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool:
        futures = {(k, m): pool.submit(train_one, m, rovers, packs[k], work / f"fold{k}" / m, args.steps)
                   for k, m in jobs}  # fmt: skip
        trained = {key: f.result() for key, f in futures.items()}
        fold_models = [{m: trained[(k, m)][0] for m in methods} for k in range(len(blocks))]
        fold_dirs = [work / f"fold{k}" for k in range(len(blocks))]
        n = len(blocks)
        folds = list(pool.map(evaluate_fold, [kept] * n, packs, fold_models, [rovers] * n, fold_dirs))

    all_methods = [*methods, *BASELINES]
    records = [r for fold in folds for r in fold["frames"]]
    pooled_table = summary_table(records, all_methods)
    pooled = pooled_table["summary"]
    per_fold = [
        {"sols": [b[0], b[-1]], "n_sols": len(b), "frames": fold["groups"],
         "summary": {m: fold["summary"][m] for m in all_methods},
         "ratio_vs_mean_colour": ratios(fold["ciede2000_change_vs_mean_colour_pct"], methods)}
        for b, fold in zip(blocks, folds, strict=True)
    ]  # fmt: skip
    result: dict[str, Any] = {
        "config": str(args.config),
        "methods": methods,
        "folds": per_fold,
        "pooled": pooled,
        "pooled_ratio_vs_mean_colour": ratios(pooled_table["ciede2000_change_vs_mean_colour_pct"], methods),
        "train_seconds": {f"fold{k}/{m}": round(v[1], 1) for (k, m), v in trained.items()},
        "wall_s": round(time.perf_counter() - start, 1),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "steps": args.steps or {m: colour_method_settings(rovers, m)["training"]["steps"] for m in methods},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for m in all_methods:
        row = ", ".join(f"{g} {pooled[m][g]['ciede2000']:.2f}" for g in pooled[m])
        print(f"{m}: {row}")


if __name__ == "__main__":
    main()
