"""The metrics JSON, and its tables: HTML for the Snakemake report (which embeds HTML, not JSON), Markdown
for the model cards.

Two JSON layouts exist: the terrain evaluation's ``regions.<region>.methods.<method>.<metric>`` and the
colour evaluation's ``summary.<method>.<group>.<metric>``. Both become one row per (region or group,
method) and one column per metric of the evaluation's metric table (evaluation/metrics.py), in table
order, with a legend from the table (unit, which way is better, what it measures).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from areograph.atomic import atomic_path
from areograph.evaluation import metrics as metric_table
from areograph.evaluation.metrics import Metric

Row = dict[str, Any]
KEYS = ("region", "method")


def write_metrics_json(path: str | Path, metrics: Mapping[str, Any], indent: int = 2) -> Path:
    """Write ``metrics`` as indented JSON (NaN kept, as Python's json writes it) ending in a newline."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(metrics, indent=indent) + "\n")
    return Path(path)


def metric_rows(metrics: Mapping[str, Any]) -> list[Row]:
    """Flatten either evaluation's JSON into rows of {"region", "method", <metric>: value}."""
    if "regions" in metrics:
        return [
            {"region": region, "method": method, **values}
            for region, entry in metrics["regions"].items()
            for method, values in entry["methods"].items()
        ]
    if "summary" in metrics:
        return [
            {"region": group, "method": method, **values}
            for method, groups in metrics["summary"].items()
            for group, values in groups.items()
        ]
    raise ValueError("metrics: neither a terrain (regions) nor a colour (summary) evaluation")


def whole_region_rows(metrics: Mapping[str, Any]) -> list[Row]:
    """A terrain evaluation's whole-region figures as rows: the real imagery (its controls) and every
    method per region, each period's lattice ratio as a ``lattice_<period>px`` key. Empty without them."""
    rows: list[Row] = []
    for region, entry in metrics.get("regions", {}).items():
        whole = entry.get("whole")
        if not whole:
            continue
        for method, values in {"real imagery": whole["real"], **whole["methods"]}.items():
            periods = {f"lattice_{p}px": v for p, v in values.get("lattice_periods", {}).items()}
            plain = {k: v for k, v in values.items() if k not in ("lattice_periods", "water_share")}
            rows.append({"region": region, "method": method, **plain, **periods})
    return rows


def table_columns(rows: Sequence[Row], table: Sequence[Metric]) -> list[tuple[str, Metric | None]]:
    """(key, metric entry or None) per column: region, method, other row keys (counts), then the table's.

    Every metric of the table has a column (empty where a row lacks it); a key the rows hold that the
    table does not name still gets one, after the table's, so nothing the JSON holds is hidden.
    """
    metric_cols = metric_table.columns(table)
    named = {k for k, _ in metric_cols}
    seen: list[str] = []
    for row in rows:
        seen += [k for k in row if k not in seen]
    counts = [k for k in seen if k not in named and k not in KEYS and not isinstance(rows[0].get(k), float)]
    rest = [k for k in seen if k not in named and k not in KEYS and k not in counts]
    cols: list[tuple[str, Metric | None]] = [(k, None) for k in (*KEYS, *counts)]
    return [*cols, *metric_cols, *((k, None) for k in rest)]


def legend(table: Sequence[Metric]) -> list[str]:
    """One line per metric: name, unit, which way is better, what it measures."""
    return [f"{m.name} ({m.unit}; {m.direction}): {m.description}" for m in table]


def _cell(value: Any, fmt: str = ".4g") -> str:
    if isinstance(value, float):
        return format(value, fmt)
    return escape(str(value))


def html_table(rows: list[Row], title: str, table: Sequence[Metric]) -> str:
    """A standalone HTML page with one table (columns: :func:`table_columns`) and the metrics' legend."""
    columns = table_columns(rows, table)
    head = "".join(
        f"<th>{escape(k)}</th>" if m is None else f'<th title="{escape(m.direction)}">{escape(k)}</th>'
        for k, m in columns
    )
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(k, ''))}</td>" for k, _ in columns) + "</tr>" for row in rows
    )
    notes = "".join(f"<li>{escape(line)}</li>" for line in legend(table))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
        f"{escape(title)}</title><style>body{{font:13px system-ui,sans-serif}}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
        f"</style></head><body><h3>{escape(title)}</h3>\n<table>\n<tr>{head}</tr>\n{body}\n</table>\n"
        f"<ul>{notes}</ul></body></html>\n"
    )


def markdown_table(
    rows: Sequence[Row], table: Sequence[Metric], highlight: str | None = None, region: str = "region"
) -> str:
    """The rows as a Markdown table for a model card; each value in its metric's format, ``highlight``'s
    method name in bold, a metric a row lacks as "-"; ``region`` heads the first column (colour: group)."""
    columns = table_columns(rows, table)
    heads = [region if k == "region" else k for k, _ in columns]
    lines = ["| " + " | ".join(heads) + " |", "|---" * len(columns) + "|"]
    for row in rows:
        cells = []
        for k, m in columns:
            value = row.get(k)
            if k == "method" and value == highlight:
                cells.append(f"**{value}**")
            elif value is None:
                cells.append("-")
            elif isinstance(value, float) and abs(value) < 1e-9:
                cells.append("0")  # float noise in files written before lattice.py returned 0 for it
            elif isinstance(value, float):
                cells.append(format(value, m.fmt if m is not None else ".3g"))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_metrics_table(metrics_json: str | Path, out_html: str | Path, title: str) -> int:
    """Write the table of one metrics file; return the number of rows."""
    path = Path(metrics_json)
    try:
        metrics = json.loads(path.read_text())
        rows, table = metric_rows(metrics), metric_table.table_for(metrics)
    except (ValueError, KeyError, AttributeError) as exc:
        raise ValueError(f"{path}: not an evaluation metrics file ({exc})") from exc
    with atomic_path(out_html) as tmp:
        tmp.write_text(html_table(rows, title, table), encoding="utf-8")
    return len(rows)
