"""What both products' evaluations draw: matplotlib off-screen, the example grid, the metrics plot.

terrain.py and colour.py score different things (tiles of whole regions; rover frames by class
group) but publish them the same way: PNG figures written atomically, so a failed evaluation never
leaves a half-written file that looks finished. Both show their examples in one grid layout
(:func:`example_grid`): a row per example, labelled on the left, a column per input / truth / method,
titled above the first row. :func:`metrics_plot` draws a panel per entry of a metric table
(evaluation/metrics.py), however many there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from areograph.atomic import atomic_path
from areograph.evaluation.metrics import Metric


def pyplot():
    """matplotlib.pyplot on the off-screen Agg backend (workflow jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, out_png: str | Path, dpi: int = 80) -> Path:
    """Save a matplotlib figure atomically and close it."""
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=dpi)
    pyplot().close(fig)
    return Path(out_png)


@dataclass(frozen=True)
class ExampleRow:
    """One row of an example grid: its label (drawn on the left) and an image per column title.

    An image is RGB (H, W, 3), float in [0, 1] (clipped) or uint8; or a 2-D array (an elevation
    tile, say), drawn with the grid's colormap.
    """

    label: str
    images: Mapping[str, np.ndarray]


def example_figure(
    rows: Sequence[ExampleRow],
    columns: Sequence[str],
    cmap: str = "gray",
    panel_size: tuple[float, float] = (2.2, 2.3),
) -> Any:
    """The example grid as a matplotlib figure: one panel per (row, column), ``columns`` in order.

    Column titles above the first row, each row's label on its left; no ticks or frames.
    ``panel_size`` is one panel's (width, height) in inches. A missing image, one neither 2-D nor
    RGB, or an empty ``rows`` or ``columns`` is an error (an evaluation that picked no examples
    should say so, not publish an empty picture).
    """
    rows, columns = list(rows), list(columns)
    if not rows or not columns:
        raise ValueError(f"example grid: nothing to draw ({len(rows)} example rows, {len(columns)} columns)")
    for row in rows:
        if missing := [c for c in columns if c not in row.images]:
            raise ValueError(f"example grid: row {row.label!r} has no image for column(s) {missing}")
        for column in columns:
            shape = np.shape(row.images[column])
            if not (len(shape) == 2 or (len(shape) == 3 and shape[-1] == 3)):
                raise ValueError(f"example grid: row {row.label!r}, column {column!r}: shape {shape}")
    plt = pyplot()
    width, height = panel_size
    fig, axes = plt.subplots(
        len(rows), len(columns), figsize=(width * len(columns), height * len(rows)), squeeze=False
    )
    for r, row in enumerate(rows):
        for c, column in enumerate(columns):
            ax, img = axes[r][c], np.asarray(row.images[column])
            if img.ndim == 2:
                ax.imshow(img, cmap=cmap)
            else:
                ax.imshow(img if img.dtype == np.uint8 else np.clip(img, 0, 1))
            if r == 0:
                ax.set_title(column, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[r][0].set_ylabel(row.label, fontsize=7)
    fig.tight_layout()
    return fig


def example_grid(
    rows: Sequence[ExampleRow],
    columns: Sequence[str],
    out_png: str | Path,
    cmap: str = "gray",
    panel_size: tuple[float, float] = (2.2, 2.3),
) -> Path:
    """Write :func:`example_figure` to ``out_png`` (atomically); both evaluations' ``examples.png``."""
    try:
        fig = example_figure(rows, columns, cmap, panel_size)
    except ValueError as exc:
        raise ValueError(f"{out_png}: {exc}") from exc
    return save_figure(fig, out_png)


def metrics_figure(
    table: Sequence[Metric],
    values: Mapping[str, Mapping[str, Mapping[str, float]]],
    methods: Sequence[str],
    title: str,
    cols: int = 4,
) -> Any:
    """One panel per metric of ``table`` (up to ``cols`` a row), bars per method, grouped by region.

    ``values`` is {region: {method: {metric: value}}}; panels beyond the table's length are blanked, and
    the legend goes in the first blank one (below the panels where none is blank), so it hides no bar.
    On a log axis a value of 0 (a flat picture's lattice) cannot be drawn as a bar: it is written as a
    "0" on the panel's floor, so a reader does not take it for a missing bar; and bars rise from the power
    of ten below the smallest value, so the smallest is not drawn as a sliver.
    """
    plt = pyplot()
    regions, metrics = list(values), list(table)
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.3 * rows), squeeze=False)
    blank = axes.ravel()[len(metrics) :]
    for ax in blank:
        ax.axis("off")
    width = 0.8 / len(methods)
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        if metric.log_scale:
            ax.set_yscale("log")
        zeros, positive = [], []
        for k, m in enumerate(methods):
            vals = np.array([values[r][m][metric.name] for r in regions], dtype=float)
            x = np.arange(len(regions)) + k * width
            if metric.log_scale:
                zeros += list(x[vals <= 0])
                positive += list(vals[vals > 0])
                vals = np.where(vals > 0, vals, np.nan)
            ax.bar(x, vals, width, label=m, color=f"C{k}")
        if positive:  # bars rise from a power of ten below the smallest, so the smallest still shows
            ax.set_ylim(bottom=10.0 ** np.floor(np.log10(min(positive))))
        for x in zeros:
            ax.annotate("0", (x, 0), xycoords=("data", "axes fraction"), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(np.arange(len(regions)) + 0.4 - width / 2, regions)
        ax.set_title(f"{metric.name} ({metric.direction})", fontsize=10)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if len(blank):
        blank[0].legend(handles, labels, loc="center", fontsize=9, frameon=False)
    else:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(methods), 5), fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0 if len(blank) else 0.06, 1, 1))
    return fig


def metrics_plot(
    table: Sequence[Metric],
    values: Mapping[str, Mapping[str, Mapping[str, float]]],
    methods: Sequence[str],
    title: str,
    out_png: str | Path,
) -> Path:
    """Write :func:`metrics_figure` to ``out_png`` (atomically); the terrain evaluation's ``metrics.png``."""
    return save_figure(metrics_figure(table, values, methods, title), out_png)
