"""RGB <-> CIE LAB (D65) scaled to the [-1, 1] range the networks see: the one place for that fact.

The colouriser is conditioned on lightness L and predicts the chroma channels a, b; at render time
the frame's own L is kept and only a, b come from the network.

Scale constants:

* ``L_SCALE = 50``: L in [0, 100] maps to ``L / 50 - 1`` in [-1, 1] (the whole range).
* ``AB_SCALE = 64``: a, b map to ``ab / 64``, clipped to [-1, 1]. sRGB's gamut reaches |a|, |b| ~ 110,
  but Mars scenes are low-chroma: the kept sample frames span a in [-6, 26] and b in [-8, 37]
  (99.9th percentiles 21 and 33). 64 keeps that range with a x1.7 margin while spreading the targets
  over nearly twice as much of the tanh output as 110 would, so an L1 loss in scaled units (and the
  pix2pix lambda_L1 = 100) weighs a given colour error 1.7x more. Only vivid colours (|a|, |b| > 64:
  saturated greens, blues, yellows that Mars terrain does not show) are clipped.
"""

from __future__ import annotations

import warnings

import numpy as np
from skimage.color import lab2rgb, rgb2lab

L_SCALE = 50.0
AB_SCALE = 64.0
# What a colouriser's inputs and outputs mean, stored in its model file (ModelMeta.colour_space) and
# checked when it is loaded: a model trained at another scale would give wrong colours, silently.
COLOUR_SPACE = {"name": "CIELAB D65", "l_scale": L_SCALE, "ab_scale": AB_SCALE}


def _as_unit_rgb(rgb: np.ndarray) -> np.ndarray:
    """Float64 (H, W, 3) in [0, 1] from uint8 or float input; error on anything else."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float64) / 255.0
    rgb = rgb.astype(np.float64)
    if rgb.size and (rgb.min() < -1e-6 or rgb.max() > 1 + 1e-6):
        raise ValueError(f"float RGB must lie in [0, 1], got [{rgb.min():.3g}, {rgb.max():.3g}]")
    return np.clip(rgb, 0.0, 1.0)


def rgb_to_lab_scaled(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RGB (H, W, 3; float in [0, 1] or uint8) -> (L (1, H, W), ab (2, H, W)), float32 in [-1, 1]."""
    lab = rgb2lab(_as_unit_rgb(rgb))
    lightness = (lab[..., 0] / L_SCALE - 1.0)[None]
    ab = np.clip(np.moveaxis(lab[..., 1:], -1, 0) / AB_SCALE, -1.0, 1.0)
    return np.clip(lightness, -1.0, 1.0).astype(np.float32), ab.astype(np.float32)


# Pixels per strip of the full-resolution conversions below: scikit-image converts in float64 with a
# few full-size temporaries (about 150 bytes a pixel), so a 24 MP frame converted whole peaks at several
# GB; in strips of 2^20 pixels the temporaries stay near 150 MB whatever the frame size. The conversions
# are per pixel, so the result is the same bit for bit.
STRIP_PIXELS = 1 << 20


def _strips(height: int, width: int) -> list[slice]:
    rows = max(1, STRIP_PIXELS // max(1, width))
    return [slice(top, min(height, top + rows)) for top in range(0, height, rows)]


def grey_to_l_scaled(grey: np.ndarray) -> np.ndarray:
    """Greyscale intensities (H, W) in [0, 1], read as sRGB grey levels -> scaled L (1, H, W) float32.

    Treating the stretched HazCam counts as display grey levels puts them on the same footing as
    the L of the colour JPEGs the colouriser learnt from.
    """
    grey = np.asarray(grey)
    if grey.ndim != 2:
        raise ValueError(f"expected an (H, W) greyscale image, got shape {grey.shape}")
    out = np.empty((1, *grey.shape), np.float32)
    for rows in _strips(*grey.shape):
        out[0, rows] = rgb_to_lab_scaled(np.repeat(grey[rows, :, None], 3, axis=2))[0][0]
    return out


def _checked_l_ab(lightness: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lightness, ab = np.asarray(lightness), np.asarray(ab)
    if lightness.ndim == 3:
        if lightness.shape[0] != 1:
            raise ValueError(f"expected L of shape (1, H, W), got {lightness.shape}")
        lightness = lightness[0]
    if ab.ndim != 3 or ab.shape[0] != 2 or ab.shape[1:] != lightness.shape:
        raise ValueError(
            f"expected ab of shape (2, {lightness.shape[0]}, {lightness.shape[1]}), got {ab.shape}"
        )
    return lightness, ab


def _lab_strip_to_rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    lab = np.empty((*lightness.shape, 3))
    lab[..., 0] = (np.clip(lightness, -1.0, 1.0) + 1.0) * L_SCALE
    lab[..., 1:] = np.moveaxis(np.clip(ab, -1.0, 1.0), 0, -1) * AB_SCALE
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*negative Z values.*")
        rgb = lab2rgb(lab)
    return np.clip(rgb, 0.0, 1.0)


def lab_scaled_to_rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """(L (1, H, W) or (H, W), ab (2, H, W)) in [-1, 1] -> RGB (H, W, 3) float32 in [0, 1].

    Inputs are clipped to [-1, 1] first (network outputs may overshoot slightly); LAB colours outside
    the sRGB gamut are clipped to it by scikit-image, whose warning about that is silenced here.
    """
    lightness, ab = _checked_l_ab(lightness, ab)
    out = np.empty((*lightness.shape, 3), np.float32)
    for rows in _strips(*lightness.shape):
        out[rows] = _lab_strip_to_rgb(lightness[rows].astype(np.float64), ab[:, rows].astype(np.float64))
    return out


def lab_scaled_to_rgb8(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """As :func:`lab_scaled_to_rgb`, rounded to uint8 strip by strip: a frame's pixels for a PNG."""
    lightness, ab = _checked_l_ab(lightness, ab)
    out = np.empty((*lightness.shape, 3), np.uint8)
    for rows in _strips(*lightness.shape):
        rgb = _lab_strip_to_rgb(lightness[rows].astype(np.float64), ab[:, rows].astype(np.float64))
        out[rows] = np.round(rgb.astype(np.float32) * 255)
    return out
