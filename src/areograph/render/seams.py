"""Seam metric of a blended window render: gradient energy in the window borders against the interior.

What a person sees at a poor overlap is not a one-pixel step: the blend hides that. It is each window's
own tone, a block pattern whose borders are the bands where neighbouring windows cross-fade (32 px wide
at overlap 32, where the change of tone is steep enough to see). So the metric looks at the render's
*artefact*: the render minus a reference render of the same input with a dense grid (overlap 3/4 of the
window, where every pixel is the mean of many windows), so that the scene itself (crater rims, ridges)
cancels and what the window grid adds remains. The artefact is smoothed (Gaussian, ``sigma`` px: the
generator's fixed 2-8 px stipple is not a seam) and its squared gradient averaged over the lines inside
the blend bands, divided by the same over the lines away from them. 1.0: the borders carry no more of the
grid's error than the interiors; pasted windows (overlap 0) score 5-12 on Gale. Without a reference the
render itself is measured (fine for synthetic tests; on real scenes the content dominates).
benchmarks/render_seams.py measures it against cost to choose the default overlap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter

Band = tuple[int, int]


def _line_energy(img: np.ndarray, axis: int) -> np.ndarray:
    """Mean squared difference across each boundary along ``axis``: entry b - 1 is the b-1 | b boundary."""
    other = tuple(a for a in range(img.ndim) if a != axis)
    return (np.diff(img, axis=axis) ** 2).mean(axis=other)


def _split(energy: np.ndarray, bands: Sequence[Band], margin: int) -> tuple[np.ndarray, np.ndarray]:
    """Energies of the boundaries inside the bands, and of those more than ``margin`` px outside all."""
    n = len(energy) + 1  # boundaries 1..n-1 between n lines
    inside = np.zeros(n + 1, bool)
    near = np.zeros(n + 1, bool)
    for lo, hi in bands:
        inside[max(lo, 1) : min(hi, n - 1) + 1] = True
        near[max(lo - margin, 1) : min(hi + margin, n - 1) + 1] = True
    b = np.arange(1, n)
    return energy[b - 1][inside[b]], energy[b - 1][~near[b]]


def seam_ratio(
    image: np.ndarray,
    row_bands: Sequence[Band],
    col_bands: Sequence[Band],
    sigma: float = 8.0,
    reference: np.ndarray | None = None,
) -> float:
    """Border / interior gradient energy of the (C, H, W) render's artefact (``image - reference``).

    ``row_bands`` / ``col_bands``: inclusive boundary ranges where windows cross-fade
    (:func:`areograph.render.windows.blend_bands`). Interior lines are those more than ``2 sigma`` from
    every band; when overlaps are so wide that none are left, every line is the interior.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 3:
        raise ValueError(f"image must be (C, H, W), got shape {img.shape}")
    if reference is not None:
        if np.shape(reference) != img.shape:
            raise ValueError(f"reference shape {np.shape(reference)} differs from the image's {img.shape}")
        img = img - np.asarray(reference, dtype=np.float64)
    if not row_bands and not col_bands:
        raise ValueError("seam_ratio needs at least one window border (one band)")
    smooth = np.stack([gaussian_filter(c, sigma) for c in img]) if sigma > 0 else img
    on, off = [], []
    for axis, bands in ((1, row_bands), (2, col_bands)):
        energy = _line_energy(smooth, axis)
        inside, outside = _split(energy, bands, int(np.ceil(2 * sigma)))
        on.append(inside)
        off.append(outside if outside.size else energy)
    interior = float(np.concatenate(off).mean())
    return float(np.concatenate(on).mean() / interior) if interior > 0 else float("inf")
