"""Ship a trained model: compact fp16 weights, its validation metrics and a model card beside them.

The one shipping module, for both products: the terrain generator (``make ship-terrain``,
:func:`export_terrain`) and the rover colouriser (rule ``ship_colouriser``, :func:`ship_colouriser`).
The shipped file keeps the self-describing layout of ``model.pt`` (spec, metadata, training config),
so :func:`areograph.training.checkpoint.load_generator` reads it like any model; only floating-point
weights are halved to fp16 (loading casts them back to the model's fp32). Bytes are reproducible
(checkpoint.write_torch_file), so the same weights give the same file. Model cards are written from
the run's own figures so they cannot drift from them.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from areograph.artefacts.evaluation import eval_files
from areograph.artefacts.layout import benchmark_file, eval_dir, log_file, model_dir, terrain_model_name
from areograph.artefacts.model_dir import ModelMeta, model_file
from areograph.artefacts.shipped import SHIPPED_FILES, shipped_files
from areograph.atomic import atomic_path
from areograph.config import load_config
from areograph.data.colour import training_class_counts
from areograph.evaluation.cards import metric_legend, model_card
from areograph.evaluation.colour import class_table
from areograph.evaluation.metrics import WHOLE_REGION_METRICS
from areograph.evaluation.tables import markdown_table, whole_region_rows
from areograph.training.checkpoint import load_file, write_torch_file

log = logging.getLogger("areograph.ship")


def half_state(model_file: dict[str, Any]) -> dict[str, Any]:
    """The model file with every floating-point tensor of the generator's state dict in fp16."""
    state = {
        k: v.half() if torch.is_floating_point(v) else v
        for k, v in model_file["generator"]["state_dict"].items()
    }
    return {**model_file, "generator": {**model_file["generator"], "state_dict": state}}


def write_fp16(model_file: dict[str, Any], out_path: Path, max_bytes: float, limit: str, source: Path) -> int:
    """Write ``model_file`` with fp16 weights to ``out_path``; bytes written. Over ``max_bytes`` it is
    an error naming ``source`` and the ``limit``, and nothing is written."""
    shipped = half_state(model_file)
    buf = io.BytesIO()
    torch.save(shipped, buf)
    if buf.tell() > max_bytes:
        raise ValueError(f"{source}: fp16 weights are {buf.tell() / 1e6:.1f} MB, over the {limit} limit")
    write_torch_file(Path(out_path), shipped)
    return buf.tell()


def export_fp16(model_path: Path, out_path: Path, max_mb: float) -> dict[str, Any]:
    """Write ``model_path`` with fp16 weights to ``out_path``; error if it exceeds ``max_mb``."""
    return _export(load_file(Path(model_path)), Path(model_path), Path(out_path), max_mb)


def _export(payload: dict[str, Any], model_path: Path, out_path: Path, max_mb: float) -> dict[str, Any]:
    n_bytes = write_fp16(payload, out_path, max_mb * 1e6, f"{max_mb} MB", model_path)
    state = payload["generator"]["state_dict"]
    n_params = sum(v.numel() for v in state.values() if torch.is_floating_point(v))
    return {"size_mb": round(n_bytes / 1e6, 2), "parameters": n_params, "step": payload.get("step")}


def _benchmark_wall_s(benchmark_tsv: Path) -> float | None:
    """Seconds of the training job from its Snakemake benchmark file (None when absent): what a card
    says of a model file written before the trainer recorded its own wall time."""
    path = Path(benchmark_tsv)
    if not path.is_file():
        return None
    with path.open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return float(rows[-1]["s"]) if rows else None


def _logged_device(log_path: Path) -> str | None:
    """The device the trainer logged ("training on cpu (...)"), or None: only for model files written
    before the trainer recorded its device in them."""
    path = Path(log_path)
    text = path.read_text(errors="replace") if path.is_file() else ""
    found = re.findall(r"training on (\S+) \(", text)
    return found[-1] if found else None


# --- terrain generator ---------------------------------------------------------------------------


QUANTILES_NOTE = "; plus 1001 Earth elevation quantiles (Mars quantile rule)"


def terrain_card(
    title: str | None,
    model: str,
    export: Mapping[str, Any],
    payload: Mapping[str, Any],
    metrics: Mapping[str, Any],
    config_file: str,
    licence: str,
    retrain: str,
    logged_device: str | None = None,
    benchmark_wall_s: float | None = None,
) -> str:
    """Markdown card (templates/terrain_card.md): data, config, steps, device, wall time, figures, licence."""
    meta, train_cfg = dict(payload.get("extra_meta", {})), payload.get("train_config", {})
    quant = meta.pop("earth_reference_quantiles_m", None)
    inputs = " + ".join(meta.get("conditioning", ["elevation"]))
    fields = {
        "title": title or f"Terraforming generator: pix2pix U-Net, {inputs} -> Sentinel-2 RGB",
        "model_kwargs": json.dumps(payload["generator"]["spec"].get("kwargs", {})),
        "parameters": f"{export['parameters']:,}",
        "size_mb": export["size_mb"],
        "config_file": config_file,
        "model": model,
        "optimiser": json.dumps(train_cfg),
        "inputs": json.dumps(meta) + (QUANTILES_NOTE if quant else ""),
        "licence": licence,
        "retrain": retrain,
        "train_regions": ", ".join(metrics.get("train_regions", [])),
        "n_train_tiles": metrics.get("n_train_tiles"),
        "whole_region_legend": metric_legend(WHOLE_REGION_METRICS),
        "whole_region_table": markdown_table(whole_region_rows(metrics), WHOLE_REGION_METRICS, model)
        or "(no whole-region figures in this evaluation)",
    }
    return model_card("terrain", payload, metrics, fields, model, logged_device, benchmark_wall_s)


def export_model(
    model_path: Path,
    metrics_json: Path,
    benchmark_tsv: Path,
    train_log: Path,
    out_model: Path,
    out_card: Path,
    out_metrics: Path,
    model: str,
    title: str | None,
    config_file: str,
    licence: str,
    retrain: str,
    max_mb: float,
) -> dict[str, Any]:
    """fp16 weights + model card + validation metrics, as one shippable folder."""
    payload = load_file(Path(model_path))
    export = _export(payload, Path(model_path), Path(out_model), max_mb)
    metrics = json.loads(Path(metrics_json).read_text())
    card = terrain_card(title, model, export, payload, metrics, config_file, licence, retrain,
                        _logged_device(Path(train_log)), _benchmark_wall_s(Path(benchmark_tsv)))  # fmt: skip
    with atomic_path(out_card) as tmp:
        tmp.write_text(card)
    with atomic_path(out_metrics) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    return export


TERRAIN_LICENCE = (
    "CC BY-NC-SA 4.0, inherited from the training imagery (Sentinel-2 cloudless - https://s2maps.eu by "
    "EOX IT Services GmbH, contains modified Copernicus Sentinel data 2020); SRTM elevation public domain"
)


def export_terrain(config_file: Path, out_dir: Path, max_mb: float = 30.0) -> dict[str, Any]:
    """Ship the ``render.model`` generator of a workflow config (after its training and evaluation ran)."""
    cfg = load_config(config_file)
    results = Path(cfg["results_dir"])  # load_config fills the schema's defaults
    model = cfg["render"]["model"]
    shipped = shipped_files(out_dir)
    return export_model(
        model_file(model_dir(results, terrain_model_name(model))),
        eval_files(eval_dir(results, "terrain"))["metrics"],
        benchmark_file(results, "train_terrain", model),
        log_file(results, "train_terrain", model),
        shipped["model"],
        shipped["card"],
        shipped["metrics"],
        model=model,
        title=None,
        config_file=str(config_file),
        licence=TERRAIN_LICENCE,
        retrain="make train-terrain && make ship-terrain",
        max_mb=max_mb,
    )


# --- rover colouriser ----------------------------------------------------------------------------

COLOURISER_MAX_BYTES = 10 * 1024 * 1024
COLOURISER_LICENCE = (
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


def _validation_sets(metrics: Mapping[str, Any]) -> str:
    groups = metrics.get("groups") or {}
    if not groups:
        return f"{metrics['n_heldout_frames']} held-out frames"
    return ", ".join(f"{n} {g}" for g, n in groups.items()) + " frames"


# The issue-20 targets: CIEDE2000 at most this fraction of the constant mean colour's, per subset,
# and the median colourfulness ratio inside COLOURFULNESS_BAND in both groups.
CIEDE_TARGETS = {"scenery_sources": 0.9, "hardware": 0.6, "overall": 0.8}
COLOURFULNESS_BAND = (0.8, 1.25)


def _targets(summary: Mapping[str, Any], method: str) -> list[str]:
    """One line per target: the shipped model's figure, the mean colour's, their ratio, met or not."""
    lines = ["Targets (met / not met):", ""]
    ours, mean = summary.get(method, {}), summary.get("mean_colour", {})
    for group, limit in CIEDE_TARGETS.items():
        if group in ours and group in mean:
            ratio = ours[group]["ciede2000"] / mean[group]["ciede2000"]
            lines.append(f"- {group}: CIEDE2000 {ours[group]['ciede2000']:.2f} vs mean colour "
                         f"{mean[group]['ciede2000']:.2f} = {ratio:.2f}x (target <= {limit}x): "
                         f"{'met' if ratio <= limit else 'NOT met'}")  # fmt: skip
    lo, hi = COLOURFULNESS_BAND
    for group in ("hardware", "scenery_sources"):
        if group in ours:
            value = ours[group]["colourfulness_ratio_median"]
            lines.append(f"- {group}: median colourfulness ratio {value:.2f} (target [{lo}, {hi}]): "
                         f"{'met' if lo <= value <= hi else 'NOT met'}")  # fmt: skip
    return lines


def per_class_table(metrics: Mapping[str, Any], method: str, trained: Mapping[str, int] | None = None) -> str:
    """A Markdown table of the shipped model's and the mean colour's CIEDE2000 per labelled class, with
    each class's training frames where ``trained`` (data.colour.training_class_counts) is given."""
    table = class_table(metrics.get("frames") or [], [method, "mean_colour"])
    if not table:
        return "The validation frames carry no class labels."
    head = ["class", "group", "val frames", *(["training frames"] if trained is not None else []),
            "this model", "mean colour", "ratio"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in table.items():
        ours, mean = row[method], row["mean_colour"]
        counts = [trained.get(name, 0)] if trained is not None else []
        figures = (f"{ours:.2f}", f"{mean:.2f}", f"{ours / mean:.2f}x")
        cells = (name, row["group"], row["n_frames"], *counts, *figures)
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def colouriser_card(
    payload: Mapping[str, Any],
    metrics: Mapping[str, Any],
    source: Mapping[str, Any],
    rovers: Mapping[str, Any],
    n_bytes: int,
    method: str = "colouriser",
    benchmark_wall_s: float | None = None,
    trained: Mapping[str, int] | None = None,
) -> str:
    """Markdown card (templates/colour_card.md): data, config, steps, device, wall time, figures, licence.

    ``trained``: training frames per class (the per-class table shows them beside the val figures)."""
    meta, train_config = payload["extra_meta"], payload["train_config"]
    spec = payload["generator"]["spec"]
    kwargs = {k: v for k, v in spec["kwargs"].items() if k not in ("centres", "weights")}
    window = rovers["render"].get("window_px") or ModelMeta.from_dict(meta).tile_px
    overlap = rovers["render"].get("overlap_px")
    overlap = window // 2 if overlap is None and window else overlap
    change = metrics["ciede2000_change_vs_mean_colour_pct"].get(method, {})
    fields = {
        "model_kwargs": json.dumps(kwargs),
        "ab_bins": f", {len(spec['kwargs']['centres'])} ab bins" if "centres" in spec["kwargs"] else "",
        "loss": meta.get("loss"),
        "sampling": json.dumps(meta.get("sampling") or {}),
        "adapter": source["adapter"],
        "adapter_options": json.dumps(source.get("options") or {}),
        "tile_px": meta.get("tile_px") or meta.get("patch_px"),
        "max_side_px": meta.get("max_side_px"),
        "training": f"{train_config['steps']} steps, batch {train_config['batch_size']}, Adam "
        f"{train_config['lr']} / beta1 {train_config['beta1']}, linear decay from "
        f"{train_config['decay_start_fraction']:.0%} of the steps, seed {train_config['seed']}",
        "size_mb": f"{n_bytes / 1e6:.1f}",
        "window": window,
        "overlap": overlap,
        "validation_sets": _validation_sets(metrics),
        "method": method,
        "change": ", ".join(f"{g} {v:+.1f} %" for g, v in change.items()),
        "targets": "\n".join(_targets(metrics["summary"], method)),
        "per_class": per_class_table(metrics, method, trained),
        "licence": COLOURISER_LICENCE,
    }
    return model_card("colour", payload, metrics, fields, method, benchmark_wall_s=benchmark_wall_s)


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
    packed: str | Path | None = None,
) -> Path:
    """Write the fp16 model, a copy of the metrics and the model card; fail if the model exceeds 10 MB.

    ``method`` is the shipped model's name in the metrics (``colouriser`` or a ``compare`` variant);
    ``packed``, the patches it trained on, gives the card each class's training frames.
    """
    data = load_file(Path(model_path))
    n_bytes = write_fp16(data, Path(out_model), COLOURISER_MAX_BYTES, "10 MB", Path(model_path))
    metrics = json.loads(Path(metrics_json).read_text())
    with atomic_path(out_metrics) as tmp:
        tmp.write_text(compact_metrics(metrics))
    wall_s = _benchmark_wall_s(Path(benchmark_tsv))
    trained = training_class_counts(packed) if packed is not None else None
    card = colouriser_card(data, metrics, source, rovers, n_bytes, method, wall_s, trained)
    with atomic_path(out_card) as tmp:
        tmp.write_text(card)
    log.info("shipped %s (%.1f MB) with its model card", out_model, n_bytes / 1e6)
    return Path(out_model)


def main(argv: list[str] | None = None) -> None:
    """``python -m areograph.ship CONFIG OUT_DIR``: fp16 weights, card and metrics."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("config", type=Path, help="the workflow config the model was trained with")
    parser.add_argument("out_dir", type=Path, help=f"folder for {', '.join(SHIPPED_FILES.values())}")
    parser.add_argument("--max-mb", type=float, default=30.0)
    args = parser.parse_args(argv)
    print(json.dumps(export_terrain(args.config, args.out_dir, args.max_mb)))


if __name__ == "__main__":
    main()
