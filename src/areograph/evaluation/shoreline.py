"""Does a picture show water where the water mask says? A plain colour test, the same for every picture.

Sentinel-2 cloudless renders open water dark and blue: blue above red by at least ``BLUE_OVER_RED``
levels and a luma below ``MAX_LUMA`` (of 255). Measured on the seed's five regions against their sea
masks (docs/data.md): 96-99 % of mask pixels pass on the open sea; the murky Puget Sound passes 77 %;
outside the masks, lakes (Lake Ontario, Titicaca, Garda: water the shoreline data sets call land)
pass, and almost nothing else does. The same test scores the real imagery and every generated picture, so
its own errors cancel in the comparison.
"""

from __future__ import annotations

import numpy as np

from areograph.evaluation.lattice import LUMA

BLUE_OVER_RED = 8
MAX_LUMA = 90


def water_looking(rgb: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of an (H, W, 3) uint8 picture that look like open water."""
    rgb = np.asarray(rgb, dtype=np.float32)
    return (rgb[..., 2] - rgb[..., 0] >= BLUE_OVER_RED) & (rgb @ LUMA < MAX_LUMA)


def water_agreement(rgb: np.ndarray, water: np.ndarray, valid: np.ndarray | None = None) -> dict[str, float]:
    """How a picture's water-looking pixels match a water mask, over ``valid`` pixels.

    ``iou``: intersection over union; ``mask_looks_water``: share of mask pixels that look like water;
    ``looks_water_outside_mask``: share of water-looking pixels the mask calls land; ``water_share``:
    the mask's share of the picture. NaN where a share has no pixels to count.
    """
    looks = water_looking(rgb)
    water = np.asarray(water, bool)
    valid = np.ones(water.shape, bool) if valid is None else np.asarray(valid, bool)
    looks, water = looks & valid, water & valid

    def ratio(a: int, b: int) -> float:
        return float(a) / b if b else float("nan")

    both = int((looks & water).sum())
    return {
        "iou": ratio(both, int((looks | water).sum())),
        "mask_looks_water": ratio(both, int(water.sum())),
        "looks_water_outside_mask": ratio(int((looks & ~water).sum()), int(looks.sum())),
        "water_share": ratio(int(water.sum()), int(valid.sum())),
    }
