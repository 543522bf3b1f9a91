"""Image metrics for evaluation and the "colour by elevation" baseline the model must beat.

Convention: every metric takes RGB images as float arrays of shape (H, W, 3) with values in
[0, 1] (``data_range=1``); :func:`unit_rgb` converts a model output (3, H, W) in [-1, 1] to that
form. PSNR and SSIM come from ``skimage.metrics``; CIEDE2000 from ``skimage.color``. Higher is
better for PSNR/SSIM, lower for L1/CIEDE2000.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def unit_rgb(chw: np.ndarray) -> np.ndarray:
    """(3,H,W) in [-1, 1] (model/tanh range) -> (H,W,3) float64 in [0, 1], the metrics' convention."""
    x = np.asarray(chw, dtype=np.float64)
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f"expected a (3,H,W) array, got shape {x.shape}")
    return np.clip((np.moveaxis(x, 0, -1) + 1.0) / 2.0, 0.0, 1.0)


def _pair(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    if p.shape != t.shape or p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"need two (H,W,3) arrays of one shape, got {p.shape} and {t.shape}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(t))):
        raise ValueError("images contain non-finite values")
    return p, t


def l1(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error over all pixels and channels (the pix2pix reconstruction loss)."""
    p, t = _pair(pred, truth)
    return float(np.mean(np.abs(p - t)))


def psnr(pred: np.ndarray, truth: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` for identical images."""
    p, t = _pair(pred, truth)
    if np.array_equal(p, t):
        return math.inf
    return float(peak_signal_noise_ratio(t, p, data_range=data_range))


def ssim(pred: np.ndarray, truth: np.ndarray, data_range: float = 1.0) -> float:
    """Mean structural similarity (skimage defaults, 7x7 window, channels averaged); 1 = identical."""
    p, t = _pair(pred, truth)
    return float(structural_similarity(t, p, data_range=data_range, channel_axis=-1))


def ciede2000(pred_rgb: np.ndarray, truth_rgb: np.ndarray) -> float:
    """Mean CIEDE2000 colour difference (sRGB -> CIELAB, D65); about 1 is a just-noticeable difference."""
    p, t = _pair(pred_rgb, truth_rgb)
    if p.min() < 0 or p.max() > 1 or t.min() < 0 or t.max() > 1:
        raise ValueError("ciede2000 needs RGB values in [0, 1]")
    return float(np.mean(deltaE_ciede2000(rgb2lab(t), rgb2lab(p))))


class ElevationColourLookup:
    """Baseline: the mean training colour of each elevation bin, interpolated between bin centres.

    It answers "how much does the model add beyond colouring by height?". Bins are equal-width over
    the training elevations' range; empty bins borrow from their neighbours by interpolation, and
    elevations beyond the fitted range take the colour of the nearest end bin.
    """

    def __init__(self, edges_m: np.ndarray, colour: np.ndarray, counts: np.ndarray) -> None:
        self.edges_m = np.asarray(edges_m, dtype=np.float64)
        self.colour = np.asarray(colour, dtype=np.float64)
        self.counts = np.asarray(counts, dtype=np.int64)
        bins = self.edges_m.size - 1
        if bins < 1 or self.colour.shape != (bins, 3) or self.counts.shape != (bins,):
            raise ValueError(
                f"inconsistent lookup: {self.edges_m.size} edges, colour {self.colour.shape}, "
                f"counts {self.counts.shape}"
            )

    @classmethod
    def fit(cls, elevation_m: np.ndarray, rgb: np.ndarray, bins: int = 64) -> ElevationColourLookup:
        """Fit from training tiles: elevation (...,H,W) metres and rgb (...,H,W,3), uint8 or float [0,1]."""
        elev = np.asarray(elevation_m, dtype=np.float64)
        colours = np.asarray(rgb)
        if colours.shape != (*elev.shape, 3):
            raise ValueError(f"rgb shape {colours.shape} does not match elevation shape {elev.shape} + (3,)")
        colours = colours / 255.0 if colours.dtype == np.uint8 else colours.astype(np.float64)
        elev, colours = elev.ravel(), colours.reshape(-1, 3)
        ok = np.isfinite(elev)
        elev, colours = elev[ok], colours[ok]
        if elev.size == 0:
            raise ValueError("no finite elevations to fit the colour lookup")
        lo, hi = float(elev.min()), float(elev.max())
        if hi == lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
        idx = np.clip(np.searchsorted(edges, elev, side="right") - 1, 0, bins - 1)
        counts = np.bincount(idx, minlength=bins)
        sums = np.stack([np.bincount(idx, weights=colours[:, c], minlength=bins) for c in range(3)], axis=1)
        filled = counts > 0
        centres = (edges[:-1] + edges[1:]) / 2
        colour = np.empty((bins, 3))
        for c in range(3):
            colour[:, c] = np.interp(centres, centres[filled], sums[filled, c] / counts[filled])
        return cls(edges, colour, counts)

    def predict(self, elevation_m: np.ndarray) -> np.ndarray:
        """Colour (H,W,3) float in [0, 1] for an elevation array (H,W) in metres."""
        elev = np.asarray(elevation_m, dtype=np.float64)
        centres = (self.edges_m[:-1] + self.edges_m[1:]) / 2
        return np.stack([np.interp(elev, centres, self.colour[:, c]) for c in range(3)], axis=-1)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists for JSON."""
        return {
            "edges_m": self.edges_m.tolist(),
            "colour": self.colour.tolist(),
            "counts": self.counts.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ElevationColourLookup:
        """Inverse of :meth:`to_dict`."""
        return cls(np.array(data["edges_m"]), np.array(data["colour"]), np.array(data["counts"]))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness M = sigma_rgyb + 0.3 mu_rgyb, on 0..255 RGB levels.

    rg = R - G, yb = (R + G) / 2 - B; sigma / mu are the root sums of squares of the two opponent
    channels' standard deviations / means. 0 for a grey image; their "moderately colourful" is ~33.
    """
    x = np.asarray(rgb, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"expected an (H,W,3) RGB image, got shape {x.shape}")
    r, g, b = np.moveaxis(x * 255.0, -1, 0)
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def colourfulness_ratio(pred_rgb: np.ndarray, truth_rgb: np.ndarray) -> float:
    """Colourfulness of the result over the truth's: 1 = as colourful, < 1 washed out (nan if truth grey)."""
    p, t = _pair(pred_rgb, truth_rgb)
    truth = colourfulness(t)
    return colourfulness(p) / truth if truth > 0 else math.nan
