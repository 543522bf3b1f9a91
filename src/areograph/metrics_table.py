"""Metric JSON files as HTML tables, for the Snakemake report (which embeds HTML, not JSON).

Two layouts exist: the terrain evaluation's ``regions.<region>.methods.<method>.<metric>`` and the
colour evaluation's ``summary.<method>.<group>.<metric>``. Both become one row per (region or group,
method) and one column per metric, in the order the evaluation wrote them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from areograph.atomic import atomic_path

Row = dict[str, Any]


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


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def html_table(rows: list[Row], title: str) -> str:
    """A standalone HTML page with one table (the columns: every key any row has, first seen first)."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c, ''))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
        f"{escape(title)}</title><style>body{{font:13px system-ui,sans-serif}}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
        f"</style></head><body><h3>{escape(title)}</h3>\n<table>\n<tr>{head}</tr>\n{body}\n</table>"
        "</body></html>\n"
    )


def write_metrics_table(metrics_json: str | Path, out_html: str | Path, title: str) -> int:
    """Write the table of one metrics file; return the number of rows."""
    path = Path(metrics_json)
    try:
        rows = metric_rows(json.loads(path.read_text()))
    except (ValueError, KeyError, AttributeError) as exc:
        raise ValueError(f"{path}: not an evaluation metrics file ({exc})") from exc
    with atomic_path(out_html) as tmp:
        tmp.write_text(html_table(rows, title), encoding="utf-8")
    return len(rows)
