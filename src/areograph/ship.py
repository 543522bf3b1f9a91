"""Package a trained colouriser for shipping: fp16 weights, its validation metrics, a model card.

The shipped file keeps the self-describing model format (spec + state dict + metadata, see
training/checkpoint.py), so ``load_generator`` reads it like any ``model.pt``; only floating-point
tensors are halved (fp16 halves the size; loading casts them back to float32, and colours change by
far less than a CIEDE2000 unit). The model card is written from the run's own figures so it cannot
drift from them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from areograph.atomic import atomic_path
from areograph.training.checkpoint import load_file
from areograph.training.export import wall_time_s, write_fp16

log = logging.getLogger("areograph.ship")

MAX_BYTES = 10 * 1024 * 1024
LICENCE = (
    "Training images: NASA/JPL-Caltech/MSSS, public domain (Mars Science Laboratory Mastcam and MAHLI "
    "browse images, via Stanboli & Wagstaff, DOI 10.5281/zenodo.1049137). The weights carry the "
    "project's licence (LICENSE)."
)


def _rounded(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


def compact_metrics(metrics: Mapping[str, Any]) -> str:
    """The metrics JSON, rounded to 4 decimals, with one line per frame record (small enough to commit)."""
    head = {k: v for k, v in _rounded(dict(metrics)).items() if k != "frames"}
    frames = ",\n".join(json.dumps(r, separators=(",", ":")) for r in _rounded(metrics.get("frames", [])))
    text = json.dumps(head, indent=1)
    return text[:-2] + ',\n "frames": [\n' + frames + "\n ]\n}\n"


def _row(name: str, figures: Mapping[str, Any]) -> str:
    return (
        f"| {name} | {figures['ciede2000']:.2f} | {figures['colourfulness_ratio_median']:.2f} | "
        f"{figures['psnr']:.2f} | {figures['ssim']:.3f} | {figures['n_frames']} |"
    )


def model_card(
    meta: Mapping[str, Any],
    train_config: Mapping[str, Any],
    spec: Mapping[str, Any],
    metrics: Mapping[str, Any],
    source: Mapping[str, Any],
    rovers: Mapping[str, Any],
    wall_s: float | None,
    n_bytes: int,
    method: str = "colouriser",
) -> str:
    """Markdown model card: data, config, steps, device, wall time, validation figures, licence."""
    summary = metrics["summary"]
    kwargs = {k: v for k, v in spec["kwargs"].items() if k not in ("centres", "weights")}
    window = rovers["render"].get("window_px") or meta.get("patch_px")
    overlap = rovers["render"].get("overlap_px")
    overlap = window // 2 if overlap is None and window else overlap
    lines = [
        "# Rover colouriser (L -> ab), shipped weights",
        "",
        f"- **Model**: `{spec['name']}` {json.dumps(kwargs)}"
        + (f", {len(spec['kwargs']['centres'])} ab bins" if "centres" in spec["kwargs"] else ""),
        f"- **Loss**: {meta.get('loss')}; class-aware sampling {json.dumps(meta.get('sampling') or {})}",
        f"- **Data**: `{source['adapter']}` {json.dumps(source.get('options') or {})}; training patches "
        f"{meta.get('patch_px')} px from frames resized to {meta.get('max_side_px')} px long side; the "
        "authors' train split (sols 3-180) after the quality filter",
        f"- **Training**: {train_config['steps']} steps, batch {train_config['batch_size']}, Adam "
        f"{train_config['lr']} / beta1 {train_config['beta1']}, linear decay from "
        f"{train_config['decay_start_fraction']:.0%} of the steps, seed {train_config['seed']}",
        f"- **Device**: {train_config['device']} (this run: CPU, 1 thread)"
        + (f"; wall time {wall_s / 60:.1f} min" if wall_s is not None else ""),
        f"- **File**: fp16 state dict, {n_bytes / 1e6:.1f} MB",
        f"- **Inference**: windows {window} px overlapping by {overlap} px, blended; ab predicted at the "
        "training scale and upsampled; the frame's own L is kept",
        "",
        f"## Validation ({metrics['n_heldout_frames']} frames of the authors' val split, sols 182-564)",
        "",
        "| method / group | mean CIEDE2000 | median colourfulness ratio | PSNR dB | SSIM | frames |",
        "|---|---|---|---|---|---|",
    ]
    for name, groups in summary.items():
        for group, figures in groups.items():
            lines.append(_row(f"{name} / {group}", figures))
    change = metrics["ciede2000_change_vs_mean_colour_pct"].get(method, {})
    lines += [
        "",
        f"This model is `{method}` in the table. Its CIEDE2000 change against the constant mean colour: "
        + ", ".join(f"{g} {v:+.1f} %" for g, v in change.items()),
        "",
        "## Reproduce",
        "",
        "`make colouriser-weights`, i.e. `snakemake ship_colouriser --cores 1 --configfile "
        "configs/colouriser_msl.yaml`, then copy `results/msl/ship/colouriser/*` here. It trains every "
        "method of the table (`rovers.colouriser`, `rovers.compare`, the baseline) and ships the one named "
        "by `rovers.ship`, chosen from this table by the lowest mean CIEDE2000 overall.",
        "",
        "## Licence",
        "",
        LICENCE,
        "",
    ]
    return "\n".join(lines)


def ship_colouriser(
    model_path: str | Path,
    metrics_json: str | Path,
    out_model: str | Path,
    out_metrics: str | Path,
    out_card: str | Path,
    source: Mapping[str, Any],
    rovers: Mapping[str, Any],
    benchmark_tsv: str | Path,
    method: str = "colouriser",
) -> Path:
    """Write the fp16 model, a copy of the metrics and the model card; fail if the model exceeds 10 MB.

    ``method`` is the shipped model's name in the metrics (``colouriser`` or a ``compare`` variant).
    """
    data = load_file(Path(model_path))
    n_bytes = write_fp16(data, Path(out_model), MAX_BYTES, "10 MB", Path(model_path))
    metrics = json.loads(Path(metrics_json).read_text())
    with atomic_path(out_metrics) as tmp:
        tmp.write_text(compact_metrics(metrics))
    card = model_card(
        data["extra_meta"], data["train_config"], data["generator"]["spec"], metrics, source, rovers,
        wall_time_s(Path(benchmark_tsv)), n_bytes, method,
    )  # fmt: skip
    with atomic_path(out_card) as tmp:
        tmp.write_text(card)
    log.info("shipped %s (%.1f MB) with its model card", out_model, n_bytes / 1e6)
    return Path(out_model)
