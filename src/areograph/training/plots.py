"""The loss log (``losses.csv``) and its plot (``losses.png``), both written atomically.

The CSV holds one row per optimisation step: ``step`` (updates done), ``lr`` (the generator's rate
for that update), then one column per loss term. It is rewritten whole at each checkpoint, so it
always ends at the checkpointed step and a resumed run continues it without duplicated rows.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from areograph.atomic import atomic_path


def read_losses(path: Path, up_to_step: int | None = None) -> tuple[list[str], list[list[float]]]:
    """Columns and rows of a loss CSV, keeping only rows with ``step <= up_to_step`` when given.

    Used on resume to drop rows logged after the checkpoint the run restarts from.
    """
    path = Path(path)
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        try:
            columns = next(reader)
        except StopIteration:
            raise ValueError(f"{path}: empty loss log (no header)") from None
        if columns[:1] != ["step"]:
            raise ValueError(f"{path}: loss log must start with a 'step' column, got {columns}")
        rows: list[list[float]] = []
        for line_no, line in enumerate(reader, start=2):
            try:
                row = [float(v) for v in line]
            except ValueError as err:
                raise ValueError(f"{path}:{line_no}: non-numeric loss row {line}") from err
            if len(row) != len(columns):
                raise ValueError(f"{path}:{line_no}: expected {len(columns)} values, got {len(row)}")
            if up_to_step is None or row[0] <= up_to_step:
                rows.append(row)
    return columns, rows


def write_losses(path: Path, columns: Sequence[str], rows: Sequence[Sequence[float]]) -> Path:
    """Write the whole loss log atomically; ``step`` is written as an integer."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([int(row[0]), *(format(float(v), ".8g") for v in row[1:])])
    return Path(path)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (same length), so noisy GAN losses show their trend."""
    if window <= 1 or len(values) < 2:
        return values
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - window)
    return (csum[idx] - csum[lo]) / (idx - lo)


def plot_losses(csv_path: Path, png_path: Path) -> Path:
    """Plot every column of the loss log against step (raw + smoothed) into ``png_path`` atomically."""
    columns, rows = read_losses(csv_path)
    data = np.asarray(rows, dtype=float).reshape(-1, len(columns))
    terms = columns[1:]
    fig = Figure(figsize=(7, 1.8 * len(terms) + 0.6), layout="constrained")
    axes = fig.subplots(len(terms), 1, sharex=True, squeeze=False)[:, 0]
    steps = data[:, 0]
    window = max(1, len(steps) // 50)
    for ax, name, values in zip(axes, terms, data[:, 1:].T, strict=True):
        ax.plot(steps, values, lw=0.6, alpha=0.35, color="tab:blue")
        ax.plot(steps, _smooth(values, window), lw=1.4, color="tab:blue")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("step")
    fig.suptitle(f"training losses ({len(steps)} steps)")
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=100)
    return Path(png_path)
