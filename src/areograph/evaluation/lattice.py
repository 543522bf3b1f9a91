"""The lattice metric: how much of a picture's energy sits on a regular grid, against its own texture.

A generator's upsampling and striding can print a periodic pattern (a checkerboard, a dot grid) over a
whole mosaic. It hides in a downscaled quicklook and is the first thing a person sees at full
resolution. In the power spectrum such a pattern is a spike at the lattice's frequency; natural land
cover spreads its power smoothly over each ring of equal frequency. So, for a lattice of period ``p``
pixels, the figure is the power at the frequency 1/p along x, along y and on the diagonal (the largest
of the three), divided by the median power of the ring of the same radius: about 1-5 on real imagery
(its own texture at that scale), hundreds to thousands for a visible grid.

Luminance is in 8-bit levels (0-255), and a ring quieter than 8-bit rounding noise is compared against
that noise instead (:func:`quantisation_floor`): a flat picture has no lattice (ratio ~0).
The spectrum is the mean periodogram of Hann-windowed square crops of the luminance (Welch's method),
``crop_px`` a side (512 = what a person sees of a mosaic at 1:1 on a screen), from crops that lie
wholly on valid pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PERIODS = (2, 4, 8, 16, 32, 64)
CROP_PX = 512
LUMA = np.array([0.299, 0.587, 0.114])


def luminance(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float64 luma (ITU-R BT.601 weights) of an (H, W, 3) image, in the image's own units."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"need an (H, W, 3) image, got shape {rgb.shape}")
    return rgb.astype(np.float64) @ LUMA


MIN_VALID = 0.98


def crop_origins(valid: np.ndarray, crop_px: int, max_crops: int = 64) -> list[tuple[int, int]]:
    """Top-left corners of non-overlapping ``crop_px`` squares at least 98 % on ``valid`` pixels.

    At most ``max_crops``, spread evenly over those available (the figure is a mean; a few dozen
    crops pin it down).
    """
    h, w = valid.shape
    # summed-area table: a crop is valid when it holds crop_px^2 valid pixels
    sat = np.pad(valid.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    origins = []
    for y in range(0, h - crop_px + 1, crop_px):
        for x in range(0, w - crop_px + 1, crop_px):
            total = sat[y + crop_px, x + crop_px] - sat[y, x + crop_px] - sat[y + crop_px, x] + sat[y, x]
            if total >= MIN_VALID * crop_px * crop_px:
                origins.append((y, x))
    if len(origins) > max_crops:
        keep = np.linspace(0, len(origins) - 1, max_crops).round().astype(int)
        origins = [origins[k] for k in keep]
    return origins


def mean_power_spectrum(
    grey: np.ndarray, valid: np.ndarray, origins: Sequence[tuple[int, int]], crop_px: int
) -> np.ndarray:
    """Mean centred power spectrum (crop_px, crop_px) of Hann-windowed, mean-removed crops.

    The few invalid pixels a crop may hold are set to its valid mean (no power of their own).
    """
    hann = np.hanning(crop_px)
    window = np.outer(hann, hann)
    total = np.zeros((crop_px, crop_px))
    for y, x in origins:
        crop = grey[y : y + crop_px, x : x + crop_px]
        ok = valid[y : y + crop_px, x : x + crop_px]
        crop = np.where(ok, crop - crop[ok].mean(), 0.0) * window
        total += np.abs(np.fft.fftshift(np.fft.fft2(crop))) ** 2
    return total / len(origins)


RING_MIN_BINS = 64


def quantisation_floor(crop_px: int) -> float:
    """The power one bin holds from 8-bit rounding alone (1/12 level^2 per pixel, through the window).

    A ring quieter than this (a flat or blurred picture) is compared against this floor instead, so a
    flat picture scores no lattice rather than the ratio of two rounding errors.
    """
    hann = np.hanning(crop_px)
    return float((np.outer(hann, hann) ** 2).sum()) / 12.0


def _ring_median(power: np.ndarray, radius: np.ndarray, r: float, peak: tuple[int, int]) -> float:
    """Median power of the bins at radius ``r`` (the peak's own 3 x 3 bins left out), at least the
    8-bit quantisation floor.

    The ring is widened until it holds ``RING_MIN_BINS`` bins: near the corners of the spectrum (the
    diagonal lattices) a one-bin ring is only a handful of bins.
    """
    n = power.shape[0]
    near_peak = np.zeros(power.shape, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near_peak[(peak[0] + dy) % n, (peak[1] + dx) % n] = True
    half_width = 0.5
    while True:
        ring = (np.abs(radius - r) < half_width) & ~near_peak
        if ring.sum() >= RING_MIN_BINS or half_width > n:
            return max(float(np.median(power[ring])), quantisation_floor(n))
        half_width *= 1.5


def lattice_ratios_of_spectrum(power: np.ndarray, periods: Sequence[int] = PERIODS) -> dict[int, float]:
    """Per period: max over x / y / diagonal of (power at the lattice frequency / its ring's median).

    A peak quieter than 8-bit rounding noise (:func:`quantisation_floor`) is no lattice: exactly 0, not
    the ratio of float noise (a flat picture's spectrum is ~1e-30 everywhere).
    """
    n = power.shape[0]
    floor = quantisation_floor(n)
    c = n // 2
    ky, kx = np.mgrid[-c : n - c, -c : n - c]
    radius = np.hypot(ky, kx)
    out = {}
    for p in periods:
        k = n // p
        if k < 1:
            raise ValueError(f"period {p} px does not fit a {n} px crop")
        ratios = []
        for dy, dx in ((k, 0), (0, k), (k, k)):  # along y, along x, on the diagonal
            peak = ((c - dy) % n, (c - dx) % n)  # the negative-frequency bin is always on the grid
            if power[peak] < floor:
                ratios.append(0.0)
                continue
            ratios.append(float(power[peak]) / _ring_median(power, radius, float(np.hypot(dy, dx)), peak))
        out[p] = max(ratios)
    return out


def lattice_ratios(
    rgb: np.ndarray,
    valid: np.ndarray | None = None,
    crop_px: int = CROP_PX,
    periods: Sequence[int] = PERIODS,
) -> dict[int, float]:
    """The lattice ratio per period (px) of an (H, W, 3) image; ``valid`` masks nodata (default: all).

    A picture (or valid area) smaller than ``crop_px`` is measured on the largest power-of-two crop that
    fits, at the periods up to half that crop (a tiny test render still gets its fine-scale figures);
    no valid 4 px square at all is an error.
    """
    grey = luminance(rgb)
    valid = np.ones(grey.shape, bool) if valid is None else np.asarray(valid, bool)
    if valid.shape != grey.shape:
        raise ValueError(f"mask shape {valid.shape} differs from the image's {grey.shape}")
    origins: list[tuple[int, int]] = []
    while crop_px >= 2 * min(periods):
        origins = crop_origins(valid, crop_px)
        if origins:
            break
        crop_px //= 2
    if not origins:
        raise ValueError(f"image of {grey.shape} px has no valid square of {2 * min(periods)} px or more")
    fitting = [p for p in periods if 2 * p <= crop_px]
    return lattice_ratios_of_spectrum(mean_power_spectrum(grey, valid, origins, crop_px), fitting)


def lattice_ratios_of_tiles(
    tiles: np.ndarray, periods: Sequence[int] = PERIODS, crop_px: int = CROP_PX
) -> dict[int, float]:
    """The lattice ratio of a stack of same-size (N, H, W, 3) pictures: one spectrum pooled over all.

    For a validation split of separate tiles (no whole region to cut 512 px crops from): each tile
    gives its largest power-of-two crop, and the periodograms are averaged.
    """
    tiles = np.asarray(tiles)
    side = min(tiles.shape[1:3])
    while crop_px > side:
        crop_px //= 2
    periods = [p for p in periods if 2 * p <= crop_px]
    if not periods:
        raise ValueError(f"tiles of {tiles.shape[1:3]} px are too small for a lattice ratio")
    valid = np.ones(tiles.shape[1:3], bool)
    origins = crop_origins(valid, crop_px)
    total = sum(mean_power_spectrum(luminance(t), valid, origins, crop_px) for t in tiles)
    return lattice_ratios_of_spectrum(total / len(tiles), periods)


def worst_lattice(ratios: dict[int, float]) -> float:
    """The largest ratio over the periods: one number for "is there a grid"."""
    return max(ratios.values())
