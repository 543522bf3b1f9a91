"""The rover track, one function per workflow step: filter, pack, train, evaluate, colourise, video.

The colouriser sees CIE L and predicts a, b (images/lab.py); full frames are colourised with the same
overlapping-window blended inference as the Mars mosaic (render/windows.py), keeping each frame's own L.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from areograph.atomic import atomic_dir, atomic_path
from areograph.data.colour import ColourPatchDataset, heldout_frames, pack_patches
from areograph.images.lab import grey_to_l_scaled, lab_scaled_to_rgb, rgb_to_lab_scaled
from areograph.images.pds3 import list_frames, read_edr
from areograph.images.quality import QualityThresholds, filter_collection
from areograph.metrics import ciede2000, psnr, ssim
from areograph.models.specs import generator_specs
from areograph.render.mosaic import generator_predictor
from areograph.render.video import caption_frame, side_by_side, write_video
from areograph.render.windows import predict_blended
from areograph.training.checkpoint import load_generator
from areograph.training.trainer import TrainConfig, train

log = logging.getLogger("areograph.colourise")

FRAMES_INDEX = "frames.csv"


def filter_colour_frames(
    in_dir: str | Path, out_dir: str | Path, report_csv: str | Path, quality: Mapping[str, Any]
) -> list[Path]:
    """Drop blurred, empty, corrupt, greyscale and duplicate frames; one CSV row per input."""
    kept = filter_collection(Path(in_dir), Path(out_dir), Path(report_csv), QualityThresholds(**quality))
    log.info("quality filter kept %d frames", len(kept))
    return kept


def pack_colour_patches(
    kept_dir: str | Path, out_path: str | Path, patches: Mapping[str, Any]
) -> dict[str, Any]:
    """L / ab patches of the kept frames, split by sol."""
    kept_dir = Path(kept_dir)
    summary = pack_patches(kept_dir, kept_dir / "MANIFEST.csv", Path(out_path), **patches)
    log.info("colour patches: %s", summary)
    return summary


def train_colour(
    kind: str,
    packed: str | Path,
    colouriser: Mapping[str, Any],
    baseline: Mapping[str, Any],
    training: Mapping[str, Any],
    out_dir: str | Path,
    threads: int = 1,
) -> Path:
    """Train the colouriser (L1, optionally + PatchGAN) or the seed baseline (MSE) with the shared trainer."""
    torch.set_num_threads(max(1, threads))
    dataset = ColourPatchDataset(Path(packed), "train", seed=training.get("seed", 0))
    patch_px = int(np.load(packed)["patch_px"])
    adversarial = bool(colouriser.get("adversarial", False))
    model_kind = "baseline" if kind == "baseline" else "pix2pix"
    generator, discriminator = generator_specs(model_kind, 1, 2, colouriser, baseline, patch_px, adversarial)
    if kind == "baseline":
        mode = {"mode": "regression", "regression_loss": "mse"}
    elif discriminator is None:
        mode = {"mode": "regression", "regression_loss": "l1"}
    else:
        mode = {"mode": "pix2pix"}
    cfg = TrainConfig(**{k: v for k, v in training.items() if k != "load_px"}, **mode)
    meta = {"task": "colourise", "kind": kind, "patch_px": patch_px}
    return train(generator, discriminator, dataset, cfg, Path(out_dir), extra_meta=meta)


def colourise_l(model: torch.nn.Module, lightness: np.ndarray, window_px: int, overlap_px: int) -> np.ndarray:
    """RGB (H, W, 3) in [0, 1] from scaled L (1, H, W): predicted ab, the frame's own L."""
    ab = predict_blended(lightness, generator_predictor(model), window_px, overlap_px, batch_size=16)
    return lab_scaled_to_rgb(lightness, ab)


def evaluate_colour(
    kept_dir: str | Path,
    packed: str | Path,
    model_paths: Mapping[str, str | Path],
    window_px: int,
    overlap_px: int,
    out_json: str | Path,
    out_png: str | Path,
    n_examples: int = 4,
) -> dict[str, Any]:
    """PSNR / SSIM (RGB) and mean CIEDE2000 on held-out frames: models vs mean colour vs greyscale."""
    frames = heldout_frames(Path(kept_dir), Path(packed), "val")
    if not frames:
        raise ValueError(f"{packed}: no held-out frames")
    mean_ab = np.load(packed)["train_ab_mean"].astype(np.float32).reshape(2, 1, 1)
    models = {name: load_generator(Path(p)) for name, p in model_paths.items()}
    scores: dict[str, dict[str, list[float]]] = {}
    examples = []
    for frame in frames:
        lightness, _ = rgb_to_lab_scaled(frame.rgb)
        preds = {name: colourise_l(m, lightness, window_px, overlap_px) for name, m in models.items()}
        preds["mean_colour"] = lab_scaled_to_rgb(
            lightness, np.broadcast_to(mean_ab, (2, *lightness.shape[1:]))
        )
        preds["greyscale"] = lab_scaled_to_rgb(lightness, np.zeros((2, *lightness.shape[1:]), np.float32))
        for name, pred in preds.items():
            s = scores.setdefault(name, {"psnr": [], "ssim": [], "ciede2000": []})
            s["psnr"].append(psnr(pred, frame.rgb))
            s["ssim"].append(ssim(pred, frame.rgb))
            s["ciede2000"].append(ciede2000(pred, frame.rgb))
        if len(examples) < n_examples:
            examples.append((frame.name, frame.rgb, preds))
    metrics: dict[str, Any] = {
        "n_heldout_frames": len(frames),
        "models": {n: {k: float(np.mean(v)) for k, v in s.items()} for n, s in scores.items()},
    }
    if "colouriser" in metrics["models"]:
        m = metrics["models"]
        metrics["colouriser_beats_mean_colour_ciede2000"] = (
            m["colouriser"]["ciede2000"] < m["mean_colour"]["ciede2000"]
        )
    with atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    _example_grid(examples, Path(out_png))
    log.info("colour metrics: %s", metrics)
    return metrics


def _example_grid(examples: Sequence[tuple[str, np.ndarray, dict[str, np.ndarray]]], out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["greyscale", "truth", *[n for n in examples[0][2] if n != "greyscale"]]
    fig, axes = plt.subplots(
        len(examples), len(names), figsize=(2.8 * len(names), 2.4 * len(examples)), squeeze=False
    )
    for r, (name, truth, preds) in enumerate(examples):
        panels = {"truth": truth, **preds}
        for c, title in enumerate(names):
            axes[r][c].imshow(np.clip(panels[title], 0, 1))
            axes[r][c].set_title(title if r == 0 else "", fontsize=9)
            axes[r][c].axis("off")
        axes[r][0].text(
            -0.04,
            0.5,
            name[:28],
            transform=axes[r][0].transAxes,
            rotation=90,
            ha="right",
            va="center",
            fontsize=6,
        )
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def colourise_edrs(
    edr_dir: str | Path,
    model_path: str | Path,
    window_px: int,
    overlap_px: int,
    out_dir: str | Path,
    stretch_percentiles: Sequence[float] = (0.5, 99.5),
) -> list[Path]:
    """Colourise every EDR at full resolution, in spacecraft-clock order: PNGs + frames.csv (captions)."""
    model = load_generator(Path(model_path))
    frames = list_frames(Path(edr_dir))
    if not frames:
        raise ValueError(f"{edr_dir}: no EDR frames to colourise")
    written = []
    with atomic_dir(out_dir) as tmp:
        rows = []
        for i, frame in enumerate(frames):
            grey, _ = read_edr(frame.path, percentiles=tuple(stretch_percentiles))
            rgb = colourise_l(model, grey_to_l_scaled(grey), window_px, overlap_px)
            name = f"{i:04d}_{frame.product_id}.png"
            Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(tmp / name)
            rows.append({"png": name, "edr": frame.path.name, "caption": frame.caption()})
            written.append(Path(out_dir) / name)
            log.info("colourised %s (%s)", frame.path.name, frame.caption())
        with open(tmp / FRAMES_INDEX, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["png", "edr", "caption"])
            writer.writeheader()
            writer.writerows(rows)
    return written


def render_rover_videos(
    frames_dir: str | Path,
    edr_dir: str | Path,
    out_video: str | Path,
    out_side_by_side: str | Path,
    out_still: str | Path,
    fps: int = 5,
    stretch_percentiles: Sequence[float] = (0.5, 99.5),
) -> None:
    """Captioned colour video, greyscale | colourised video, and a still of the middle frame."""
    frames_dir = Path(frames_dir)
    with open(frames_dir / FRAMES_INDEX, newline="") as fh:
        rows = list(csv.DictReader(fh))
    colour = [np.asarray(Image.open(frames_dir / r["png"]).convert("RGB")) for r in rows]
    captions = [r["caption"] for r in rows]
    grey = [read_edr(Path(edr_dir) / r["edr"], percentiles=tuple(stretch_percentiles))[0] for r in rows]
    pairs = [side_by_side(g, c, gap_px=8) for g, c in zip(grey, colour, strict=True)]
    write_video(colour, captions, out_video, fps=fps)
    write_video(pairs, captions, out_side_by_side, fps=fps)
    mid = len(pairs) // 2
    still = Image.fromarray(caption_frame(pairs[mid], captions[mid]))
    still.thumbnail((1400, 1400))
    with atomic_path(out_still) as tmp:
        still.save(tmp)
