"""Seam metric of a blended window render: gradient energy across window edges against the interior.

A window model pasted side by side shows its tiling as steps along the window edges. The metric is the
mean squared step across the edge lines (vertical differences across window rows, horizontal ones across
window columns) divided by the same differences on nearby interior lines: 1.0 means the edges are as
smooth as the rest of the image, 1.5 means 50 % more energy on the edges. The interior lines sit a whole
number of ``period`` px from an edge, because the generator's stride-2 transposed convolutions leave a
fixed stipple (periods 2, 4, 8 px) whose energy depends on the phase; comparing at the same phase keeps
that pattern out of the ratio. benchmarks/render_seams.py measures it against cost to choose the overlap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _edge_and_reference(
    energy: np.ndarray, edges: Sequence[int], period: int, reach: int
) -> tuple[list, list]:
    """Energies of the edge boundaries and of the interior boundaries k * period away (k = 1..reach)."""
    edge_set = set(edges)
    on = [energy[e - 1] for e in edges]
    ref = {e + s * k * period for e in edges for k in range(1, reach + 1) for s in (-1, 1)}
    off = [energy[r - 1] for r in sorted(ref - edge_set) if 1 <= r <= len(energy)]
    return on, off


def seam_ratio(
    image: np.ndarray, edge_rows: Sequence[int], edge_cols: Sequence[int], period: int = 8, reach: int = 3
) -> float:
    """Edge / interior gradient energy of a (C, H, W) image with window edges at ``edge_rows/cols``.

    An edge at row r is the boundary between rows r - 1 and r, its energy the mean of
    ``(image[:, r] - image[:, r - 1]) ** 2``; columns likewise. Interior boundaries are those
    ``k * period`` px from an edge (k = 1..reach) that are not edges. Raises when either set is empty.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 3:
        raise ValueError(f"image must be (C, H, W), got shape {img.shape}")
    dy = (np.diff(img, axis=1) ** 2).mean(axis=(0, 2))  # dy[r - 1]: across the r-1 | r boundary
    dx = (np.diff(img, axis=2) ** 2).mean(axis=(0, 1))
    on_r, off_r = _edge_and_reference(dy, edge_rows, period, reach)
    on_c, off_c = _edge_and_reference(dx, edge_cols, period, reach)
    if not on_r + on_c or not off_r + off_c:
        raise ValueError("seam_ratio needs at least one window edge and one interior line")
    return float(np.mean(on_r + on_c) / np.mean(off_r + off_c))
