"""Adding a metric is one entry: a dummy one appears in the JSON, the plot, the HTML table and the card."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from areograph.artefacts.model_dir import TrainingRun
from areograph.evaluation import metrics as metric_table
from areograph.evaluation.colour import frame_scores, summary_table
from areograph.evaluation.figures import metrics_figure, metrics_plot, pyplot
from areograph.evaluation.metrics import Metric
from areograph.evaluation.tables import markdown_table, metric_rows, write_metrics_table
from areograph.evaluation.terrain import evaluate_terrain
from areograph.models.init import init_weights
from areograph.models.registry import build_model
from areograph.ship import export_fp16, terrain_card
from areograph.training.checkpoint import load_file, save_model

SPEC = {"name": "unet", "kwargs": {"in_channels": 1, "out_channels": 3, "ngf": 4, "depth": 6, "dropout": 0.5}}
DUMMY = Metric("dummy", lambda preds, truth, seed: 0.25, True, "widgets", "a metric this test adds")


def _packed(path: Path) -> Path:
    """Eight 64 px tiles: six for training (region a), two for validation (region b)."""
    rng = np.random.default_rng(0)
    n = 8
    np.savez(
        path,
        split=np.array(["train"] * 6 + ["val"] * 2),
        region=np.array(["a"] * 6 + ["b"] * 2),
        tile_id=np.array([f"t{i}" for i in range(n)]),
        elevation=rng.uniform(0, 1000, (n, 64, 64)).astype(np.float32),
        imagery=rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8),
    )
    return path


def _model(path: Path) -> Path:
    torch.manual_seed(0)
    net = init_weights(build_model(SPEC["name"], **SPEC["kwargs"]))
    meta = {"task": "terrain", "kind": "pix2pix", "tile_px": 64, "conditioning": ["elevation"],
            "elevation_range_m": [0.0, 1000.0]}  # fmt: skip
    return save_model(path, SPEC, net, 3, meta, {"steps": 3}, TrainingRun("cpu", "fp32", 1.5, 3))


def test_a_dummy_terrain_metric_is_one_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metric_table, "TERRAIN_METRICS", (*metric_table.TERRAIN_METRICS, DUMMY))
    model = _model(tmp_path / "model.pt")
    out = {name: tmp_path / name for name in ("metrics.json", "examples.png", "metrics.png", "metrics.html")}
    evaluate_terrain(_packed(tmp_path / "pairs.npz"), {"pix2pix": model}, None, out["metrics.json"],
                     out["examples.png"], out["metrics.png"], n_examples=2)  # fmt: skip
    # JSON: every method's figures and the direction
    saved = json.loads(out["metrics.json"].read_text())
    assert saved["lower_is_better"]["dummy"] is True
    assert {m: v["dummy"] for m, v in saved["regions"]["b"]["methods"].items()} == dict.fromkeys(
        ["pix2pix", "constant", "lookup"], 0.25
    )
    assert saved["summary"]["best"]["dummy"] == {"b": "pix2pix"}  # a tie: the first method
    # plot: an eighth panel, titled from the entry
    values = {r: e["methods"] for r, e in saved["regions"].items()}
    fig = metrics_figure(metric_table.TERRAIN_METRICS, values, saved["methods"], "t")
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    pyplot().close(fig)
    assert len(titles) == 8 and titles[-1] == "dummy (lower is better)"
    assert Image.open(out["metrics.png"]).size == (1088, 528)  # 4 panels a row, 2 rows at 80 dpi
    # HTML table: a column and a legend line
    write_metrics_table(out["metrics.json"], out["metrics.html"], "t")
    html = out["metrics.html"].read_text()
    assert '<th title="lower is better">dummy</th>' in html and "<td>0.25</td>" in html
    assert "dummy (widgets; lower is better): a metric this test adds" in html
    # model card: a column of the validation table and a legend line
    export = export_fp16(model, tmp_path / "fp16.pt", max_mb=30)
    card = terrain_card(None, "pix2pix", export, load_file(model), saved, "config.yaml", "CC0", "make")
    assert "| region | method | l1 | psnr | ssim | block_l1 | texture | palette | lattice | dummy |" in card
    assert "| b | **pix2pix** |" in card and card.count("| 0.25 |") == 3
    assert "- `dummy` (widgets; lower is better): a metric this test adds" in card
    assert "| device, precision | cpu, fp32 |" in card and "| wall time | 2 s |" in card


def test_the_metrics_plot_takes_any_number_of_metrics(tmp_path: Path) -> None:
    """Nine entries: a third row of panels (the old fixed grid raised at a seventh metric)."""
    table = tuple(Metric(f"m{k}", DUMMY.fn, k % 2 == 0, "u", f"m {k}", log_scale=k == 0) for k in range(9))
    values = {"r": {"x": {m.name: 1.0 + k for k, m in enumerate(table)}}}
    metrics_plot(table, values, ["x"], "nine", tmp_path / "nine.png")
    assert Image.open(tmp_path / "nine.png").size == (1088, 792)
    fig = metrics_figure(table, values, ["x"], "nine")
    shown = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in shown][-1] == "m8 (lower is better)"
    assert shown[0].get_yscale() == "log" and shown[1].get_yscale() == "linear"
    assert len(fig.axes) - len(shown) == 3  # the rest of the last row blanked
    legend = next(ax for ax in fig.axes if not ax.axison).get_legend()  # in the first blank panel
    assert [t.get_text() for t in legend.get_texts()] == ["x"] and shown[0].get_legend() is None
    pyplot().close(fig)


def test_a_zero_on_a_log_axis_is_written_not_dropped() -> None:
    """A flat picture's lattice is exactly 0, which a log axis cannot draw: the panel says "0"."""
    table = (Metric("lattice", DUMMY.fn, True, "x", "grid", log_scale=True), DUMMY)
    values = {"r": {"model": {"lattice": 4.0, "dummy": 1.0}, "constant": {"lattice": 0.0, "dummy": 2.0}}}
    fig = metrics_figure(table, values, ["model", "constant"], "zero")
    lattice = fig.axes[0]
    heights = [bar.get_height() for bar in lattice.patches]
    assert heights[0] == 4.0 and np.isnan(heights[1])
    assert [t.get_text() for t in lattice.texts] == ["0"]
    assert lattice.get_ylim()[0] == 1.0  # 4 rises from 10^0, not from just below itself
    assert not fig.axes[1].texts  # a linear axis draws its zero as a bar
    pyplot().close(fig)


def test_a_dummy_colour_metric_reaches_the_summary_and_its_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    dummy = Metric("dummy", lambda pred, truth: float(pred.mean()), True, "w", "the mean", median=True)
    monkeypatch.setattr(metric_table, "COLOUR_METRICS", (*metric_table.COLOUR_METRICS, dummy))
    rng = np.random.default_rng(1)
    truth = rng.uniform(0, 1, (16, 16, 3))
    preds = {"mean_colour": np.full_like(truth, 0.5), "greyscale": np.full_like(truth, 0.25)}
    scores = {m: frame_scores(pred, truth) for m, pred in preds.items()}
    records = [{"group": "", "scores": scores}] * 2
    table = summary_table(records, ["mean_colour", "greyscale"])
    overall = table["summary"]["greyscale"]["overall"]
    assert overall["dummy"] == overall["dummy_median"] == pytest.approx(0.25)
    rows = metric_rows(table)
    text = markdown_table(rows, metric_table.table_for(table), "greyscale", "group")
    assert text.splitlines()[0].endswith("| psnr | ssim | dummy | dummy_median |")
    assert "| overall | **greyscale** | 2 |" in text
