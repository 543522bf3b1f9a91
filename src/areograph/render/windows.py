"""Overlapping-window inference with smooth blending: the one way a fixed-size model covers a big image.

Both the Mars mosaic (elevation -> colour) and the rover frames (grey -> colour) run a network
trained on ``window_px`` squares over images of any size. Pasting non-overlapping predictions shows
seams wherever neighbouring windows disagree; here windows overlap and each prediction is weighted
by :func:`blend_weight`, which fades towards the window edge, so every output pixel is a smooth
weighted mean of the windows covering it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
from tqdm import tqdm


def blend_weight(window_px: int) -> np.ndarray:
    """(window_px, window_px) float32 weight: a separable sine bump, 1 at the centre, small but > 0 at edges.

    ``w(i) = sin(pi * (i + 0.5) / n)`` per axis: it falls to about ``pi / (2n)`` at the borders, so a
    window's contribution fades out where it meets its neighbour, yet every pixel keeps a positive
    weight (no division by zero where only one window reaches).
    """
    if window_px < 1:
        raise ValueError(f"window_px must be >= 1, got {window_px}")
    ramp = np.sin(np.pi * (np.arange(window_px) + 0.5) / window_px)
    return np.outer(ramp, ramp).astype(np.float32)


def _grid(size: int, window_px: int, stride: int, margin: int) -> tuple[int, int, list[int]]:
    """Windows per axis for ``size`` plus ``margin`` each side: (pad_before, padded_size, starts)."""
    count = max(1, math.ceil((size + 2 * margin - window_px) / stride) + 1)
    padded = (count - 1) * stride + window_px
    return (padded - size) // 2, padded, [i * stride for i in range(count)]


def blend_bands(
    height: int, width: int, window_px: int, overlap_px: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Where neighbouring windows of :func:`predict_blended` cross-fade, per axis of an (H, W) result.

    Each band is the inclusive range of boundaries (boundary ``b`` lies between lines ``b - 1`` and
    ``b``) from where the next window starts to where the previous one ends; at overlap 0 it is the one
    edge where they meet. Bands wholly outside the result are dropped (the seam metric's borders).
    """
    stride = window_px - overlap_px
    out = []
    for size in (height, width):
        pad, _, starts = _grid(size, window_px, stride, overlap_px // 2)
        bands = [(nxt - pad, prev + window_px - pad) for prev, nxt in itertools.pairwise(starts)]
        out.append([(lo, hi) for lo, hi in bands if hi > 0 and lo < size])
    return out[0], out[1]


def predict_blended(
    image: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    window_px: int,
    overlap_px: int,
    batch_size: int = 8,
    progress: bool = False,
) -> np.ndarray:
    """Run ``predict`` over overlapping windows of a (C,H,W) image and blend into a (C_out,H,W) result.

    The image is reflection-padded (by at least ``overlap_px // 2`` so that its border is not a
    window's faint edge) to a regular grid of windows with stride ``window_px - overlap_px``;
    ``predict`` receives float32 batches (B,C,window_px,window_px), B <= ``batch_size``, and must
    return (B,C_out,window_px,window_px). Weighted predictions are summed, divided by the summed
    weights and cropped back to (H,W). Works for any H, W, including images smaller than a window.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 3:
        raise ValueError(f"image must be (C,H,W), got shape {img.shape}")
    if not 0 <= overlap_px < window_px:
        raise ValueError(f"need 0 <= overlap_px < window_px, got overlap {overlap_px}, window {window_px}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    _, height, width = img.shape
    stride = window_px - overlap_px
    top, padded_h, ys = _grid(height, window_px, stride, overlap_px // 2)
    left, padded_w, xs = _grid(width, window_px, stride, overlap_px // 2)
    pad = ((0, 0), (top, padded_h - height - top), (left, padded_w - width - left))
    padded = np.pad(img, pad, mode="reflect") if height > 1 and width > 1 else np.pad(img, pad, mode="edge")
    weight = blend_weight(window_px)
    origins = [(y, x) for y in ys for x in xs]
    acc: np.ndarray | None = None
    weight_sum = np.zeros((padded_h, padded_w), dtype=np.float32)
    batches = range(0, len(origins), batch_size)
    for start in tqdm(batches, desc="windows", unit="batch", disable=not progress):
        chunk = origins[start : start + batch_size]
        batch = np.stack([padded[:, y : y + window_px, x : x + window_px] for y, x in chunk])
        out = np.asarray(predict(batch), dtype=np.float32)
        if out.ndim != 4 or out.shape[0] != len(chunk) or out.shape[2:] != (window_px, window_px):
            raise ValueError(
                f"predict returned shape {out.shape}; expected "
                f"({len(chunk)}, C_out, {window_px}, {window_px})"
            )
        if acc is None:
            acc = np.zeros((out.shape[1], padded_h, padded_w), dtype=np.float32)
        for (y, x), pred in zip(chunk, out, strict=True):
            acc[:, y : y + window_px, x : x + window_px] += weight * pred
            weight_sum[y : y + window_px, x : x + window_px] += weight
    assert acc is not None  # at least one window always exists
    rows, cols = slice(top, top + height), slice(left, left + width)
    result = acc[:, rows, cols] / weight_sum[rows, cols]
    return np.ascontiguousarray(result, dtype=np.float32)
