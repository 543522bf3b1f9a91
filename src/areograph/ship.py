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


def wall_time_s(benchmark_tsv: Path) -> float | None:
    """Seconds of the training job from its Snakemake benchmark file (None when absent)."""
    path = Path(benchmark_tsv)
    if not path.is_file():
        return None
    with path.open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return float(rows[-1]["s"]) if rows else None


def training_device(log_path: Path) -> str:
    """The device the trainer logged ("training on cpu (...)"), or "unknown"."""
    path = Path(log_path)
    text = path.read_text(errors="replace") if path.is_file() else ""
    found = re.findall(r"training on (\S+) \(", text)
    return found[-1] if found else "unknown"


# --- terrain generator ---------------------------------------------------------------------------


def _table(metrics: Mapping[str, Any], model: str) -> str:
    cols = ["l1", "block_l1", "texture", "palette", "psnr", "ssim"]
    lines = ["| region | method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]
    for region, entry in metrics["regions"].items():
        for method, scores in entry["methods"].items():
            name = f"**{method}**" if method == model else method
            lines.append(f"| {region} | {name} | " + " | ".join(f"{scores[c]:.4g}" for c in cols) + " |")
    return "\n".join(lines)


def terrain_card(
    title: str | None,
    model: str,
    export: Mapping[str, Any],
    payload: Mapping[str, Any],
    metrics: Mapping[str, Any],
    config_file: str,
    device: str,
    wall_s: float | None,
    licence: str,
    retrain: str,
) -> str:
    """Markdown card: data, config, steps, device, wall time, validation figures, licence."""
    meta, train_cfg = dict(payload.get("extra_meta", {})), payload.get("train_config", {})
    spec = payload["generator"]["spec"]
    quant = meta.pop("earth_reference_quantiles_m", None)
    inputs = " + ".join(meta.get("conditioning", ["elevation"]))
    title = title or f"Terraforming generator: pix2pix U-Net, {inputs} -> Sentinel-2 RGB"
    wall = "unknown" if wall_s is None else f"{wall_s / 60:.1f} min (the last run, resumed from a checkpoint)"
    return f"""# {title}

| | |
|---|---|
| model | `{spec["name"]}` {json.dumps(spec.get("kwargs", {}))} |
| parameters | {export["parameters"]:,} (fp16 file: {export["size_mb"]} MB) |
| trained with | `{config_file}`, terrain model `{model}`, {payload.get("step")} steps |
| device, wall time | {device}, {wall} |
| optimiser | {json.dumps(train_cfg)} |
| inputs | {json.dumps(meta)}{"; plus 1001 Earth elevation quantiles (Mars quantile rule)" if quant else ""} |
| licence | {licence} |

Retrain: `{retrain}`

## Validation: whole regions never trained on

Training regions: {", ".join(metrics.get("train_regions", []))} ({metrics.get("n_train_tiles")} tiles).
Lower is better for l1, block_l1 (1.6 km block means), texture (Laplacian-pyramid patch SWD x 1e3) and
palette (CIELAB pixel SWD); higher for PSNR and SSIM.

{_table(metrics, model)}
"""


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
    card = terrain_card(
        title,
        model,
        export,
        payload,
        metrics,
        config_file,
        training_device(Path(train_log)),
        wall_time_s(Path(benchmark_tsv)),
        licence,
        retrain,
    )
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


def _row(name: str, figures: Mapping[str, Any]) -> str:
    return (
        f"| {name} | {figures['ciede2000']:.2f} | {figures['colourfulness_ratio_median']:.2f} | "
        f"{figures['psnr']:.2f} | {figures['ssim']:.3f} | {figures['n_frames']} |"
    )


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


def colouriser_card(
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
    window = rovers["render"].get("window_px") or ModelMeta.from_dict(meta).tile_px
    overlap = rovers["render"].get("overlap_px")
    overlap = window // 2 if overlap is None and window else overlap
    lines = [
        "# Rover colouriser (L -> ab), shipped weights",
        "",
        f"- **Model**: `{spec['name']}` {json.dumps(kwargs)}"
        + (f", {len(spec['kwargs']['centres'])} ab bins" if "centres" in spec["kwargs"] else ""),
        f"- **Loss**: {meta.get('loss')}; class-aware sampling {json.dumps(meta.get('sampling') or {})}",
        f"- **Data**: `{source['adapter']}` {json.dumps(source.get('options') or {})}; training patches "
        f"{meta.get('tile_px') or meta.get('patch_px')} px from frames resized to "
        f"{meta.get('max_side_px')} px long side; the "
        "authors' train split (sols 3-180) after the quality filter",
        f"- **Training**: {train_config['steps']} steps, batch {train_config['batch_size']}, Adam "
        f"{train_config['lr']} / beta1 {train_config['beta1']}, linear decay from "
        f"{train_config['decay_start_fraction']:.0%} of the steps, seed {train_config['seed']}",
        f"- **Device**: {train_config['device']} (this run: CPU, 1 thread), precision "
        f"{train_config.get('precision', 'auto')}"
        + (f"; wall time {wall_s / 60:.1f} min" if wall_s is not None else ""),
        f"- **File**: fp16 state dict, {n_bytes / 1e6:.1f} MB",
        f"- **Inference**: windows {window} px overlapping by {overlap} px, blended; ab predicted at the "
        "training scale and upsampled; the frame's own L is kept",
        "",
        f"## Validation ({_validation_sets(metrics)})",
        "",
        "Per group: `hardware` and `scenery` are the authors' val split (sols 182-564); each further group "
        "is another colour set scored as a scenery source (frames the training split holds left out); "
        "`scenery_sources` is the mean over the scenery sources, `macro` the mean of hardware and "
        "`scenery_sources` (what the shipped method was chosen on); `overall` pools every frame.",
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
        *_targets(summary, method),
        "",
        "## Reproduce",
        "",
        "`make colouriser-weights`, i.e. `snakemake ship_colouriser --cores 1 --configfile "
        "configs/colouriser_msl.yaml`, then copy `results/msl/ship/colouriser/*` here. It trains every "
        "method of the table (`rovers.colouriser`, `rovers.compare`, the baseline) and ships the one named "
        "by `rovers.ship`, chosen from this table by the lowest macro CIEDE2000 (`best_by_macro` in the "
        "metrics beside this card).",
        "",
        "## Licence",
        "",
        COLOURISER_LICENCE,
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
    n_bytes = write_fp16(data, Path(out_model), COLOURISER_MAX_BYTES, "10 MB", Path(model_path))
    metrics = json.loads(Path(metrics_json).read_text())
    with atomic_path(out_metrics) as tmp:
        tmp.write_text(compact_metrics(metrics))
    card = colouriser_card(
        data["extra_meta"], data["train_config"], data["generator"]["spec"], metrics, source, rovers,
        wall_time_s(Path(benchmark_tsv)), n_bytes, method,
    )  # fmt: skip
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
