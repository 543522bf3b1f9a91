"""Distances that judge what a person sees, where pixel L1 rewards the blurry average.

* **Texture**: sliced Wasserstein distance (SWD) between 7 x 7 patches of the Laplacian pyramids of
  generated and real imagery (Karras et al. 2018, "Progressive Growing of GANs", section 5). Each
  pyramid level's patches are normalised per colour channel by their own set's mean and standard
  deviation, so the distance measures local structure, not colour; it needs no downloaded network.
* **Palette**: SWD between the two sets' pixel colours in CIELAB (units of Delta E): is there the right
  share of forest, rock, snow and desert, wherever it is placed.
* **Land cover in place**: L1 of block means (8 x 8 px = 1.6 km at 200 m/px): the right colour roughly
  in the right place, forgiving texture.

Images are (N, H, W, 3) float arrays in [0, 1], as in :mod:`areograph.evaluation.image_metrics`.
Every distance is seeded, so the same inputs give the same figure; lower is better.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import convolve1d
from skimage.color import rgb2lab

_BINOMIAL = np.array([1, 4, 6, 4, 1], dtype=np.float64) / 16.0


def _blur(img: np.ndarray) -> np.ndarray:
    """5-tap binomial blur over H and W of (N, H, W, C), reflecting at the borders."""
    out = convolve1d(img, _BINOMIAL, axis=1, mode="reflect")
    return convolve1d(out, _BINOMIAL, axis=2, mode="reflect")


def laplacian_pyramid(images: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass levels of (N, H, W, C) images, finest first; the last level is the coarse residual."""
    current = np.asarray(images, dtype=np.float64)
    pyramid = []
    for _ in range(levels - 1):
        low = _blur(current)[:, ::2, ::2]
        up = np.zeros_like(current)
        up[:, ::2, ::2] = low
        up = _blur(up) * 4.0
        pyramid.append(current - up)
        current = low
    pyramid.append(current)
    return pyramid


def _patches(level: np.ndarray, per_image: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``per_image`` random ``size`` x ``size`` patches per image, flat: (N * per_image, size^2 C)."""
    n, h, w, c = level.shape
    if h < size or w < size:
        raise ValueError(f"pyramid level of {h}x{w} px is smaller than the {size} px patch")
    ys = rng.integers(0, h - size + 1, size=(n, per_image))
    xs = rng.integers(0, w - size + 1, size=(n, per_image))
    off = np.arange(size)
    rows = ys[..., None, None] + off[:, None]  # (n, p, size, 1)
    cols = xs[..., None, None] + off[None, :]  # (n, p, 1, size)
    idx = np.arange(n)[:, None, None, None]
    return level[idx, rows, cols].reshape(n * per_image, size * size * c)


def _normalise(desc: np.ndarray, channels: int) -> np.ndarray:
    """Per colour channel: subtract the set's mean, divide by its standard deviation (Karras et al.)."""
    d = desc.reshape(desc.shape[0], -1, channels)
    d = (d - d.mean(axis=(0, 1))) / (d.std(axis=(0, 1)) + 1e-8)
    return d.reshape(desc.shape[0], -1)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_projections: int, rng: np.random.Generator) -> float:
    """Mean 1-D Wasserstein-1 distance of (Na, D) and (Nb, D) point sets over random unit directions.

    The two sets are compared at the same number of quantiles (the smaller set's size).
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need two (N, D) sets of one dimension, got {a.shape} and {b.shape}")
    dirs = rng.standard_normal((a.shape[1], n_projections))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    pa, pb = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)
    n = min(len(pa), len(pb))
    q = (np.arange(n) + 0.5) / n
    qa = pa[np.minimum((q * len(pa)).astype(int), len(pa) - 1)]
    qb = pb[np.minimum((q * len(pb)).astype(int), len(pb) - 1)]
    return float(np.mean(np.abs(qa - qb)))


def texture_swd(
    generated: np.ndarray,
    real: np.ndarray,
    levels: int = 4,
    patch_px: int = 7,
    patches_per_image: int = 128,
    n_projections: int = 512,
    seed: int = 0,
) -> dict[str, float]:
    """Texture distance: SWD of normalised 7 x 7 Laplacian-pyramid patches, per level and averaged (x 1e3).

    ``levels`` band-pass levels are compared (256 px tiles: 256, 128, 64, 32 px). Returns
    ``{"level_<px>": d, ..., "mean": mean over levels}``, scaled by 1e3 as in Karras et al.
    """
    gen, ref = np.asarray(generated, dtype=np.float64), np.asarray(real, dtype=np.float64)
    if gen.ndim != 4 or ref.ndim != 4 or gen.shape[-1] != ref.shape[-1]:
        raise ValueError(f"need (N,H,W,C) image sets, got {gen.shape} and {ref.shape}")
    rng = np.random.default_rng(seed)
    pg, pr = laplacian_pyramid(gen, levels + 1), laplacian_pyramid(ref, levels + 1)
    out: dict[str, float] = {}
    for k in range(levels):
        c = gen.shape[-1]
        dg = _normalise(_patches(pg[k], patches_per_image, patch_px, rng), c)
        dr = _normalise(_patches(pr[k], patches_per_image, patch_px, rng), c)
        out[f"level_{pg[k].shape[1]}"] = 1e3 * sliced_wasserstein(dg, dr, n_projections, rng)
    out["mean"] = float(np.mean(list(out.values())))
    return out


def palette_swd(
    generated: np.ndarray, real: np.ndarray, max_pixels: int = 50_000, n_projections: int = 256, seed: int = 0
) -> float:
    """Palette distance: SWD between the sets' pixel colours in CIELAB (Delta E units), position ignored."""
    rng = np.random.default_rng(seed)

    def sample(images: np.ndarray) -> np.ndarray:
        px = np.asarray(images, dtype=np.float64).reshape(-1, 3)
        if len(px) > max_pixels:
            px = px[rng.choice(len(px), size=max_pixels, replace=False)]
        return rgb2lab(np.clip(px, 0, 1)[None])[0]

    return sliced_wasserstein(sample(generated), sample(real), n_projections, rng)


def block_means(images: np.ndarray, block_px: int = 8) -> np.ndarray:
    """(N, H//b, W//b, C) means of b x b blocks (the remainder rows/columns are left out)."""
    x = np.asarray(images, dtype=np.float64)
    n, h, w, c = x.shape
    hb, wb = h // block_px, w // block_px
    x = x[:, : hb * block_px, : wb * block_px]
    return x.reshape(n, hb, block_px, wb, block_px, c).mean(axis=(2, 4))


def block_l1(generated: np.ndarray, real: np.ndarray, block_px: int = 8) -> float:
    """Land cover in place: mean absolute difference of ``block_px`` block means (RGB in [0, 1])."""
    return float(np.mean(np.abs(block_means(generated, block_px) - block_means(real, block_px))))
