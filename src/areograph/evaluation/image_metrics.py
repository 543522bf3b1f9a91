"""Per-image metrics: a result against its truth, both RGB.

Convention: every metric takes RGB images as float arrays of shape (H, W, 3) with values in
[0, 1] (``data_range=1``); :func:`unit_rgb` converts a model output (3, H, W) in [-1, 1] to that
form. PSNR and SSIM come from ``skimage.metrics``; CIEDE2000 from ``skimage.color``. Higher is
better for PSNR/SSIM, lower for L1/CIEDE2000 (evaluation/metrics.py is the table that says so for
every metric).
"""

from __future__ import annotations

import math

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
