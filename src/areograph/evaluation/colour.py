"""Colouriser evaluation on held-out frames: every method against two baselines, overall and per group.

Per frame and averaged: the entries of ``metrics.COLOUR_METRICS``: CIEDE2000 against the truth
(lower is better); the Hasler & Suesstrunk colourfulness of the result as a ratio to the truth's
(1 = as colourful; a sepia filter scores well below 1); PSNR and SSIM of the RGB result. The
baselines are the constant mean Mars colour (training mean a, b) and greyscale (a = b = 0). Each
figure is reported overall and per class group (scenery: ground, horizon, sun; hardware: everything
else) where the collection is labelled, because the rover's own hardware is where a mean-colour
model fails and a frame-average over mostly ground hides it.

The figure to select on is ``macro``: the mean of the hardware figure and the scenery figure, where
scenery is itself the mean over every scenery source (``scenery_sources``: the labelled val split's
scenery and each extra frame set, e.g. the offline sample's colour frames from other cameras and
sets). A split that is 90 % hardware would otherwise choose the model that is best on hardware.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from areograph.artefacts.collection import MANIFEST_NAME, read_manifest
from areograph.artefacts.packed import read_packed
from areograph.data.colour import HeldoutFrame, heldout_frames, load_frame
from areograph.evaluation import metrics as metric_table
from areograph.evaluation.figures import ExampleRow, example_grid
from areograph.evaluation.tables import write_metrics_json
from areograph.images.lab import lab_scaled_to_rgb, rgb_to_lab_scaled
from areograph.images.quality import QualityThresholds, check_image
from areograph.render.frames import colourise_l, load_colouriser

log = logging.getLogger("areograph.colour_eval")

BASELINES = ("mean_colour", "greyscale")
HARDWARE, SCENERY = "hardware", "scenery"
SCENERY_SOURCES, MACRO = "scenery_sources", "macro"


def frame_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """The per-frame figures (metrics.COLOUR_METRICS) of a result against its truth (RGB (H, W, 3))."""
    return metric_table.figures(metric_table.COLOUR_METRICS, pred, truth)


def summarise(records: Sequence[Mapping[str, Any]], method: str) -> dict[str, float | int]:
    """Means of every metric (finite values only), and medians of those the table marks ``median``."""
    out: dict[str, float | int] = {"n_frames": len(records)}
    for m in metric_table.COLOUR_METRICS:
        vals = np.array([r["scores"][method][m.name] for r in records], dtype=np.float64)
        vals = vals[np.isfinite(vals)]
        out[m.name] = float(vals.mean()) if vals.size else math.nan
        if m.median:
            out[f"{m.name}_median"] = float(np.median(vals)) if vals.size else math.nan
    return out


def mean_of(figures: Sequence[Mapping[str, Any]]) -> dict[str, float | int]:
    """The unweighted mean of several subsets' figures (frame counts summed): a macro average."""
    out: dict[str, float | int] = {"n_frames": sum(int(f["n_frames"]) for f in figures)}
    for key in figures[0]:
        if key != "n_frames":
            out[key] = float(np.mean([f[key] for f in figures]))
    return out


def summary_table(
    records: Sequence[Mapping[str, Any]], methods: Sequence[str], extra_sets: Sequence[str] = ()
) -> dict[str, Any]:
    """{method: {"overall": ..., <group>: ..., "scenery_sources", "macro"}} and the CIEDE2000 change vs
    the mean colour, per subset.

    ``extra_sets`` name groups that are scenery from other sources. ``scenery_sources`` is the mean
    over the scenery group and those sets; ``macro`` the mean of hardware and ``scenery_sources``
    (both only where hardware and some scenery are present). "overall" pools every record.
    """
    groups = sorted({r["group"] for r in records if r["group"]})
    subsets = {"overall": list(records)} | {g: [r for r in records if r["group"] == g] for g in groups}
    table = {m: {name: summarise(sub, m) for name, sub in subsets.items()} for m in methods}
    sources = [g for g in (SCENERY, *extra_sets) if g in subsets]
    for m in methods:
        if sources:
            table[m][SCENERY_SOURCES] = mean_of([table[m][g] for g in sources])
        if HARDWARE in subsets and sources:
            table[m][MACRO] = mean_of([table[m][HARDWARE], table[m][SCENERY_SOURCES]])
    names = list(table[methods[0]])
    versus = {
        m: {
            name: 100.0 * (table[m][name]["ciede2000"] / table["mean_colour"][name]["ciede2000"] - 1.0)
            for name in names
        }
        for m in methods
    }
    return {"summary": table, "ciede2000_change_vs_mean_colour_pct": versus}


def class_table(records: Sequence[Mapping[str, Any]], methods: Sequence[str]) -> dict[str, dict[str, Any]]:
    """{class: {"group", "n_frames", method: mean CIEDE2000}} over the labelled records, commonest first.

    A group's mean hides which classes carry it: on the MSL val split a third of the hardware frames
    are drill holes, a class the training sols hardly hold.
    """
    by_class: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        if r.get("class"):
            by_class.setdefault(r["class"], []).append(r)
    table = {}
    for name, rows in sorted(by_class.items(), key=lambda kv: (kv[1][0]["group"], -len(kv[1]), kv[0])):
        table[name] = {"group": rows[0]["group"], "n_frames": len(rows)} | {
            m: float(np.mean([r["scores"][m]["ciede2000"] for r in rows])) for m in methods
        }
    return table


def example_rows(frames: Sequence[HeldoutFrame], n: int) -> list[int]:
    """Indices of ``n`` frames for the example grid: two thirds hardware, one class per row, plus one
    frame of each extra evaluation set.

    Classes are taken most frequent first, the middle frame of each (deterministic), so the grid
    shows wheels, drill holes, cal targets... rather than ``n`` frames of the commonest class.
    Unlabelled collections give ``n`` frames spread evenly.
    """
    if not any(f.group for f in frames):
        return list(range(len(frames)))[:: max(1, len(frames) // max(1, n))][:n]
    picks: list[int] = []
    for group, quota in (("hardware", n - n // 3), ("scenery", n // 3)):
        by_class: dict[str, list[int]] = {}
        for i, f in enumerate(frames):
            if f.group == group:
                by_class.setdefault(f.class_name, []).append(i)
        ranked = sorted(by_class.values(), key=len, reverse=True)
        picks += [idx[len(idx) // 2] for idx in ranked[:quota]]
    for group in sorted({f.group for f in frames} - {HARDWARE, SCENERY, ""}):  # one row per extra set
        idx = [i for i, f in enumerate(frames) if f.group == group]
        picks.append(idx[len(idx) // 2])
    return picks


def extra_frames(
    name: str, folder: str | Path, packed: str | Path, quality: QualityThresholds
) -> list[HeldoutFrame]:
    """The frames of another colour set (a collection folder), as held-out frames of group ``name``.

    They pass the same quality filter as the training frames; frames whose file name is among the
    packed set's training frames are left out (the offline sample shares frames with the MSL set),
    so every frame scored is one no model trained on. Resized as the packed frames were.
    """
    folder = Path(folder)
    if not (folder / MANIFEST_NAME).is_file():
        raise FileNotFoundError(f"{folder}: evaluation set {name!r} has no {MANIFEST_NAME}")
    _, rows = read_manifest(folder / MANIFEST_NAME)
    z = read_packed(packed, ("frames", "frame_split", "max_side_px"))
    trained = {str(f) for f, s in zip(z["frames"], z["frame_split"], strict=True) if s == "train"}
    frames, dropped, seen = [], [], set()
    for row in rows:
        path = folder / row["file"]
        result = check_image(path, quality) if path.is_file() else None
        if result is None or not result.kept or row["file"] in trained or result.sha256 in seen:
            dropped.append(row["file"])
            continue
        seen.add(result.sha256)
        sol = int(row["sol"]) if str(row.get("sol", "")).strip().isdigit() else -1
        frames.append(HeldoutFrame(row["file"], sol, load_frame(path, int(z["max_side_px"])), "", name))
    log.info("evaluation set %s: %d frames scored, %d left out (quality filter, trained on, duplicate)",
             name, len(frames), len(dropped))  # fmt: skip
    if not frames:
        raise ValueError(f"{folder}: evaluation set {name!r} has no frame left to score")
    return frames


def evaluate_colour(
    kept_dir: str | Path,
    packed: str | Path,
    model_paths: Mapping[str, str | Path],
    window_px: int | None,
    overlap_px: int | None,
    out_json: str | Path,
    out_png: str | Path,
    n_examples: int = 4,
    window_override: bool = False,
    extra_sets: Mapping[str, str | Path] | None = None,
    quality: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Score every model and both baselines on the held-out frames; one JSON, one example grid.

    ``window_px`` None = each model's own training patch size; frames larger than a model's training
    frames are colourised at that model's scale (see render.frames.colourise_l). The JSON carries the
    summary table (overall, per group, ``scenery_sources`` and ``macro``), each method's CIEDE2000
    change against the mean colour, the method with the lowest macro CIEDE2000 (``best_by_macro``)
    and per-frame records; ``models`` keeps the overall means under the names earlier versions used.
    ``extra_sets`` ({group name: collection folder}) adds other colour sets as scenery sources
    (:func:`extra_frames`, filtered with ``quality``).
    """
    extra_sets = dict(extra_sets or {})
    if clash := {HARDWARE, SCENERY, SCENERY_SOURCES, MACRO, "overall"} & set(extra_sets):
        raise ValueError(f"evaluation set names {sorted(clash)} are taken by the summary; rename them")
    thresholds = QualityThresholds(**(quality or {}))
    frames = heldout_frames(Path(kept_dir), Path(packed), "val")
    for name, folder in extra_sets.items():
        frames += extra_frames(name, folder, packed, thresholds)
    mean_ab = read_packed(packed, ("train_ab_mean",))["train_ab_mean"].astype(np.float32).reshape(2, 1, 1)
    models = {name: load_colouriser(p) for name, p in model_paths.items()}
    windows = {name: meta.window_px(window_px, model_paths[name], "rovers.render.window_px", window_override)
               for name, (_, meta) in models.items()}  # fmt: skip
    methods = [*models, *BASELINES]
    picks = set(example_rows(frames, n_examples))
    records, examples = [], []
    for i, frame in enumerate(frames):
        lightness, _ = rgb_to_lab_scaled(frame.rgb)
        preds = {  # each model at its own training window and scale
            name: colourise_l(model, lightness, windows[name], overlap_px, meta.max_side_px)
            for name, (model, meta) in models.items()
        }
        shape = (2, *lightness.shape[1:])
        preds["mean_colour"] = lab_scaled_to_rgb(lightness, np.broadcast_to(mean_ab, shape))
        preds["greyscale"] = lab_scaled_to_rgb(lightness, np.zeros(shape, np.float32))
        records.append({
            "frame": frame.name, "sol": frame.sol, "class": frame.class_name, "group": frame.group,
            "scores": {name: frame_scores(pred, frame.rgb) for name, pred in preds.items()},
        })  # fmt: skip
        if i in picks:
            label = f"{frame.class_name or frame.name[:20]} (sol {frame.sol})"
            examples.append(ExampleRow(label, {"truth": frame.rgb, **preds}))
        if (i + 1) % 200 == 0:
            log.info("evaluated %d of %d frames", i + 1, len(frames))
    table = summary_table(records, methods, list(extra_sets))
    labelled = sorted({r["group"] for r in records if r["group"]})
    ranked = [m for m in models if MACRO in table["summary"][m]]
    if ranked:
        table["best_by_macro"] = min(ranked, key=lambda m: table["summary"][m][MACRO]["ciede2000"])
    metrics: dict[str, Any] = {
        "n_heldout_frames": len(frames),
        "groups": {g: sum(r["group"] == g for r in records) for g in labelled},
        "window_px": window_px,
        "overlap_px": overlap_px,
        **table,
        "per_class": class_table(records, methods),
        "models": {
            m: {k: table["summary"][m]["overall"][k] for k in ("psnr", "ssim", "ciede2000")} for m in methods
        },
        "frames": records,
    }
    if "colouriser" in models:
        m = metrics["models"]
        beats = m["colouriser"]["ciede2000"] < m["mean_colour"]["ciede2000"]
        metrics["colouriser_beats_mean_colour_ciede2000"] = beats
    write_metrics_json(out_json, metrics, indent=1)
    # Rows of frames labelled with class and sol: greyscale | truth | each method (4:3 panels).
    columns = ["greyscale", "truth", *[m for m in methods if m != "greyscale"]]
    example_grid(examples, columns, out_png, panel_size=(2.2, 1.9))
    log.info("colour metrics: %s", json.dumps(table["summary"]))
    return metrics
