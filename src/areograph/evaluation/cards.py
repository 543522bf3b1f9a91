"""Model cards for both products: one builder filling a product's Markdown template.

The templates (``templates/<product>_card.md``, ``string.Template`` placeholders) hold the prose; the
builder fills what every card shares from the model file and the evaluation it ships with: how the
training ran (device, precision, wall time: the model file's ``training_run`` record), the metric
legend and the validation table (both from the product's metric table, evaluation/metrics.py), and
leaves the product's own fields to the caller (ship.py). A placeholder nobody fills is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

from areograph.evaluation import metrics as metric_table
from areograph.evaluation.tables import markdown_table, metric_rows
from areograph.training.checkpoint import training_run_of

TEMPLATES = Path(__file__).with_name("templates")
CARD_TEMPLATES = {"terrain": "terrain_card.md", "colour": "colour_card.md"}
NOT_RECORDED = "not recorded"


def training_fields(
    payload: Mapping[str, Any], logged_device: str | None = None, benchmark_wall_s: float | None = None
) -> dict[str, str]:
    """``device``, ``precision`` and ``wall_time`` of a loaded model file, from its ``training_run`` record.

    A file written before the record existed has none: then the device the training log named and the
    training job's benchmark time (``logged_device``, ``benchmark_wall_s``; None = unknown) stand in,
    said as such, and anything else is "not recorded".
    """
    record = training_run_of(dict(payload))
    if record is not None:
        wall = f"{record.wall_s:.0f} s" if record.wall_s < 60 else f"{record.wall_s / 60:.1f} min"
        if record.start_step:
            wall += f" (steps {record.start_step}-{record.steps}, resumed from a checkpoint)"
        return {"device": record.device, "precision": record.precision, "wall_time": wall}
    wall = NOT_RECORDED
    if benchmark_wall_s is not None:
        wall = f"{benchmark_wall_s / 60:.1f} min (the training job's last run; the model file records none)"
    return {"device": logged_device or NOT_RECORDED, "precision": NOT_RECORDED, "wall_time": wall}


def steps_line(payload: Mapping[str, Any]) -> str:
    """``5000 steps``, or for a fine-tuning ``500 steps, fine-tuning `weights/x/model.pt```."""
    line = f"{payload.get('step')} steps"
    if init := (payload.get("train_config") or {}).get("init_from"):
        line += f", fine-tuning `{init}`"
    return line


def metric_legend(table: tuple[metric_table.Metric, ...]) -> str:
    """A Markdown list: each metric's name, unit, which way is better and what it measures."""
    return "\n".join(f"- `{m.name}` ({m.unit}; {m.direction}): {m.description}" for m in table)


def model_card(
    product: str,
    payload: Mapping[str, Any],
    metrics: Mapping[str, Any],
    fields: Mapping[str, Any],
    highlight: str | None = None,
    logged_device: str | None = None,
    benchmark_wall_s: float | None = None,
) -> str:
    """The Markdown card of ``product`` ("terrain" or "colour") for a loaded model file and its metrics.

    ``fields`` fill the template's product-specific placeholders; ``highlight`` is the shipped method's
    name in the metrics (bold in the table). The shared ones: ``model_name``, ``steps``, ``device``,
    ``precision``, ``wall_time`` (:func:`training_fields`), ``metric_legend`` and ``metric_table``.
    """
    table = metric_table.table_for(metrics)
    region = "region" if "regions" in metrics else "group"
    shared = {
        "model_name": payload["generator"]["spec"]["name"],
        "steps": steps_line(payload),
        "metric_legend": metric_legend(table),
        "metric_table": markdown_table(metric_rows(metrics), table, highlight, region),
        **training_fields(payload, logged_device, benchmark_wall_s),
    }
    template = Template((TEMPLATES / CARD_TEMPLATES[product]).read_text())
    try:
        return template.substitute(shared | dict(fields))
    except KeyError as err:
        raise KeyError(f"{CARD_TEMPLATES[product]}: no value for placeholder {err}") from err
