"""Rendering cost against seams: the trade-off that sets the default render overlap.

Renders the sample Gale MOLA window with the shipped terrain generator through ``predict_blended`` at
several overlaps (and window sizes), and measures for each the seam ratio (areograph.render.seams:
gradient energy of the render's artefact, its difference from a dense overlap-3/4 render, in the blend
bands / away from them, smoothed 8 px; 1.0 = the borders carry no more of it than the interiors; it is
1.0 by construction once the bands cover every line, overlap >= window / 2) and the cost (windows,
windows/s, seconds per output megapixel, best of ``--repeats``). The chosen default is the cheapest
setting whose seam ratio is within ``--tolerance`` (1.10) of the interior. Window 128 cannot run:
the depth-8 U-Net needs sides divisible by 256.

    PYTHONPATH=src .venv/bin/python benchmarks/render_seams.py

Writes benchmarks/results/render_seams.json and docs/img/render_seams.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
import yaml

from areograph.atomic import atomic_path
from areograph.render.mosaic import read_elevation, region_conditioning
from areograph.render.predictor import generator_predictor
from areograph.render.seams import seam_ratio
from areograph.render.windows import blend_bands, predict_blended
from areograph.training.checkpoint import load_generator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "render_seams.json"
PLOT = ROOT / "docs" / "img" / "render_seams.png"
SETTINGS = [(256, o) for o in (0, 32, 64, 96, 128, 160)] + [(512, o) for o in (0, 64, 128, 256)]


def measure(
    cond: np.ndarray,
    predict,
    window_px: int,
    overlap_px: int,
    batch: int,
    repeats: int,
    reference: np.ndarray,
) -> dict:
    """Seam ratio (against the dense ``reference`` render) and best-of-``repeats`` cost of one setting."""
    _, h, w = cond.shape
    rows, cols = blend_bands(h, w, window_px, overlap_px)
    counted = []
    seconds = []
    for _ in range(repeats):
        counted.clear()

        def counting(b: np.ndarray) -> np.ndarray:
            counted.append(len(b))
            return predict(b)

        start = time.perf_counter()
        out = predict_blended(cond, counting, window_px, overlap_px, batch_size=batch)
        seconds.append(time.perf_counter() - start)
    best = min(seconds)
    windows = sum(counted)
    return {
        "window_px": window_px,
        "overlap_px": overlap_px,
        "windows": windows,
        "seconds": round(best, 3),
        "windows_per_s": round(windows / best, 2),
        "s_per_mpx": round(best / (h * w / 1e6), 3),
        "seam_ratio": round(seam_ratio(out, rows, cols, reference=reference), 4),
    }


def plot(records: list[dict[str, Any]], chosen: dict[str, Any], tolerance: float, out: Path) -> None:
    """Seam ratio against seconds per megapixel, one line per window size, the chosen point circled."""
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for window in sorted({r["window_px"] for r in records}):
        rs = [r for r in records if r["window_px"] == window]
        ax.plot(
            [r["s_per_mpx"] for r in rs], [r["seam_ratio"] for r in rs], "o-", label=f"window {window} px"
        )
        for r in rs:
            ax.annotate(
                f"{r['overlap_px']}",
                (r["s_per_mpx"], r["seam_ratio"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
            )
    ax.axhline(tolerance, color="grey", ls="--", lw=1, label=f"seams = {tolerance:.2f} x interior")
    ax.plot(
        chosen["s_per_mpx"],
        chosen["seam_ratio"],
        "o",
        ms=14,
        mfc="none",
        mec="red",
        label=f"default: {chosen['window_px']} px, overlap {chosen['overlap_px']}",
    )
    ax.set_xlabel("render cost, s per output megapixel (CPU)")
    ax.set_ylabel("seam ratio (border / interior artefact gradient energy)")
    ax.set_title("Overlap (labels, px) vs seams and cost, shipped model on Gale")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def main() -> None:
    """Measure every setting, choose the default, print/save JSON and the plot."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=ROOT / "weights/terrain_pix2pix/model.pt")
    parser.add_argument("--dem", type=Path, default=ROOT / "data/sample/mars/mola_megdr_gale_128ppd.tif")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=1.10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    mars_rule = yaml.safe_load((ROOT / "config.yaml").read_text())["elevation"]["mars_rule"]
    elev, valid, profile = read_elevation(args.dem)
    cond, _ = region_conditioning(elev, valid, profile, args.model, None, None, mars_rule)
    predict = generator_predictor(load_generator(args.model))
    records = []
    references = {}  # per window size: the dense render (overlap 3/4 window) the artefacts are taken from
    for window, overlap in SETTINGS:
        if window not in references:
            references[window] = predict_blended(cond, predict, window, window * 3 // 4, args.batch_size)
        record = measure(cond, predict, window, overlap, args.batch_size, args.repeats, references[window])
        print(json.dumps(record), flush=True)
        records.append(record)
    ok = [r for r in records if r["seam_ratio"] <= args.tolerance]
    chosen = min(ok, key=lambda r: r["s_per_mpx"]) if ok else min(records, key=lambda r: r["seam_ratio"])
    doc = {
        "benchmark": "render_seams",
        "model": str(args.model.relative_to(ROOT)) if args.model.is_relative_to(ROOT) else str(args.model),
        "region_px": list(cond.shape[1:]),
        "torch_threads": torch.get_num_threads(),
        "tolerance": args.tolerance,
        "chosen": chosen,
        "results": records,
    }
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
    plot(records, chosen, args.tolerance, args.plot)
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
