"""Render speed and fidelity of the default inference path (bf16 + channels_last where native) vs fp32.

Speed: the windows of the sample Gale render (the shipped terrain generator, 256 px windows, the default
overlap) through the project's predictor (render/predictor.py at ``render.precision: auto``, batches of
``render.batch_size``) against a plain fp32 loop over the same windows (eval mode, no_grad, one window
at a time, default memory format), interleaved, windows/s by the median of ``--repeats``.

Fidelity: the same weights rendered in the default arithmetic and in fp32, compared as a person would
see them: 8-bit level differences of the blended Gale mosaic and CIEDE2000 (about 1 = just noticeable),
and the same for the shipped colouriser on the sample rover colour frames. Writes
benchmarks/results/render_precision.json and docs/img/render_precision.jpg (fp32 | default | |diff| x 10).

    PYTHONPATH=src .venv/bin/python benchmarks/render_precision.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
import yaml
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab

from areograph.atomic import atomic_path
from areograph.images.lab import rgb_to_lab_scaled
from areograph.render.frames import colourise_l, load_colouriser
from areograph.render.mosaic import read_elevation, region_conditioning, to_uint8
from areograph.render.predictor import generator_predictor
from areograph.render.windows import predict_blended
from areograph.training.checkpoint import load_generator
from areograph.training.precision import resolve_precision

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "render_precision.json"
PLOT = ROOT / "docs" / "img" / "render_precision.jpg"


def windows_of(cond: np.ndarray, window: int, overlap: int) -> np.ndarray:
    """Every window predict_blended feeds the model for this render, as one (N, C, w, w) array."""
    seen: list[np.ndarray] = []

    def record(batch: np.ndarray) -> np.ndarray:
        seen.append(batch.copy())
        return np.zeros((len(batch), 3, window, window), np.float32)

    predict_blended(cond, record, window, overlap, batch_size=64)
    return np.concatenate(seen)


def plain_fp32_loop(model: torch.nn.Module, windows: np.ndarray) -> None:
    """What a script without the project's predictor does: eval, no_grad, one fp32 window at a time."""
    model.eval()
    with torch.no_grad():
        for w in windows:
            model(torch.from_numpy(w[None]))


def project_predictor(predict, windows: np.ndarray, batch: int) -> None:
    for start in range(0, len(windows), batch):
        predict(windows[start : start + batch])


def differences(a_rgb: np.ndarray, b_rgb: np.ndarray) -> dict[str, float]:
    """8-bit level and CIEDE2000 differences of two uint8 RGB pictures of the same scene."""
    levels = np.abs(a_rgb.astype(np.int16) - b_rgb.astype(np.int16))
    de = deltaE_ciede2000(rgb2lab(a_rgb / 255.0), rgb2lab(b_rgb / 255.0))
    return {
        "levels_mean": round(float(levels.mean()), 3),
        "levels_p99": float(np.percentile(levels, 99)),
        "levels_max": int(levels.max()),
        "fraction_pixels_changed": round(float((levels.max(axis=-1) > 0).mean()), 4),
        "ciede2000_mean": round(float(de.mean()), 3),
        "ciede2000_p99": round(float(np.percentile(de, 99)), 3),
        "ciede2000_max": round(float(de.max()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=ROOT / "weights/terrain_pix2pix/model.pt")
    parser.add_argument("--colouriser", type=Path, default=ROOT / "weights/colouriser/model.pt")
    parser.add_argument("--dem", type=Path, default=ROOT / "data/sample/mars/mola_megdr_gale_128ppd.tif")
    parser.add_argument("--frames", type=Path, default=ROOT / "data/sample/rovers/colour")
    parser.add_argument("--n-frames", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    render = config["render"]
    window, overlap, batch = 256, render["overlap_px"], render["batch_size"]
    arithmetic = resolve_precision(render.get("precision", "auto"), "cpu", channels_last=True)
    elev, valid, profile = read_elevation(args.dem)
    cond = region_conditioning(elev, valid, profile, args.model, None, None, config["elevation"]["mars_rule"])
    windows = windows_of(cond, window, overlap)
    model = load_generator(args.model)
    fast = generator_predictor(model, "auto")
    fp32 = generator_predictor(load_generator(args.model), "fp32")
    plain = load_generator(args.model)
    load_before = os.getloadavg()[0]
    timings: dict[str, list[float]] = {"project_predictor": [], "plain_fp32_loop": []}
    plain_fp32_loop(plain, windows[:2])  # warm-up (oneDNN primitive creation)
    project_predictor(fast, windows[:batch], batch)
    for _ in range(args.repeats):
        for name in timings:
            start = time.perf_counter()
            if name == "plain_fp32_loop":
                plain_fp32_loop(plain, windows)
            else:
                project_predictor(fast, windows, batch)
            timings[name].append(time.perf_counter() - start)
    per_s = {n: round(len(windows) / statistics.median(t), 3) for n, t in timings.items()}
    # Fidelity: the whole blended render, default arithmetic vs fp32, same weights.
    rgb_fast = to_uint8(predict_blended(cond, fast, window, overlap, batch))
    rgb_fp32 = to_uint8(predict_blended(cond, fp32, window, overlap, batch))
    rgb_fast[~valid], rgb_fp32[~valid] = 0, 0
    terrain = differences(rgb_fast[valid][None], rgb_fp32[valid][None])
    colour_model, meta = load_colouriser(args.colouriser)
    colour_rows = []
    for path in sorted(args.frames.glob("*.JPG"))[: args.n_frames]:
        frame = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
        lightness, _ = rgb_to_lab_scaled(frame)
        win = meta.window_px(None, args.colouriser)
        outs = [
            colourise_l(colour_model, lightness, win, None, meta.max_side_px, precision=p)
            for p in ("auto", "fp32")
        ]
        a, b = (np.round(np.clip(o, 0, 1) * 255).astype(np.uint8) for o in outs)
        colour_rows.append({"frame": path.name, **differences(a, b)})
    doc: dict[str, Any] = {
        "benchmark": "render_precision",
        "default_arithmetic": arithmetic.name,
        "reason": arithmetic.reason,
        "torch_threads": torch.get_num_threads(),
        "windows": len(windows),
        "window_px": window,
        "overlap_px": overlap,
        "batch_size": batch,
        "load_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "seconds": {n: [round(x, 3) for x in t] for n, t in timings.items()},
        "windows_per_s": per_s,
        "speedup_vs_plain_fp32": round(per_s["project_predictor"] / per_s["plain_fp32_loop"], 2),
        "terrain_default_vs_fp32": terrain,
        "colouriser_default_vs_fp32": {
            "frames": colour_rows,
            "ciede2000_mean": round(float(np.mean([r["ciede2000_mean"] for r in colour_rows])), 3),
            "levels_mean": round(float(np.mean([r["levels_mean"] for r in colour_rows])), 3),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
    plot(rgb_fp32, rgb_fast, arithmetic.name, terrain, args.plot)
    print(json.dumps(doc, indent=2))


def plot(fp32: np.ndarray, fast: np.ndarray, name: str, diff: dict[str, float], out: Path) -> None:
    """fp32 | default | |difference| x 10 of a 512 px crop of the Gale render."""
    h, w = fp32.shape[:2]
    y, x = max(0, h // 2 - 256), max(0, w // 2 - 256)
    crop = (slice(y, y + 512), slice(x, x + 512))
    delta = np.clip(np.abs(fp32[crop].astype(np.int16) - fast[crop].astype(np.int16)) * 10, 0, 255)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
    titles = ["fp32", f"default ({name})", "|difference| x 10"]
    for ax, img, title in zip(axes, [fp32[crop], fast[crop], delta.astype(np.uint8)], titles, strict=True):
        ax.imshow(img)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.suptitle(
        f"Gale, shipped terrain weights: mean {diff['levels_mean']} 8-bit levels, "
        f"CIEDE2000 mean {diff['ciede2000_mean']} (p99 {diff['ciede2000_p99']})",
        fontsize=10,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=90, format="jpg", pil_kwargs={"quality": 90})  # README pictures stay small
    plt.close(fig)


if __name__ == "__main__":
    main()
