"""What both products' evaluations share: the metrics JSON, matplotlib off-screen, figures, the example grid.

terrain_eval.py and colour_eval.py score different things (tiles of whole regions; rover frames by
class group) but publish them the same way: one metrics JSON and PNG figures, each written
atomically so a failed evaluation never leaves a half-written file that looks finished. Both show
their examples in one grid layout (:func:`example_grid`): a row per example, labelled on the left, a
column per input / truth / method, titled above the first row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from areograph.atomic import atomic_path


def write_metrics_json(path: str | Path, metrics: Mapping[str, Any], indent: int = 2) -> Path:
    """Write ``metrics`` as indented JSON (NaN kept, as Python's json writes it) ending in a newline."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(metrics, indent=indent) + "\n")
    return Path(path)


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
