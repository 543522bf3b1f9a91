"""Texture, palette and block distances: each one moves the way a person's judgement does."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from areograph.evaluation.texture import block_l1, laplacian_pyramid, palette_swd, texture_swd


@pytest.fixture(scope="module")
def real(sample_dir) -> np.ndarray:
    """Eight 128 px crops of the real Sentinel-2 sample mosaic, in [0, 1]."""
    import rasterio

    with rasterio.open(sample_dir / "earth/s2cloudless2020_sierra_nevada_west.tif") as ds:
        img = np.moveaxis(ds.read(), 0, -1).astype(np.float64) / 255.0
    rows = np.linspace(0, img.shape[0] - 128, 4).astype(int)
    cols = np.linspace(0, img.shape[1] - 128, 2).astype(int)
    return np.stack([img[r : r + 128, c : c + 128] for r in rows for c in cols])


def test_pyramid_reconstructs_and_halves() -> None:
    img = np.random.default_rng(0).random((2, 32, 32, 3))
    pyr = laplacian_pyramid(img, 3)
    assert [p.shape[1] for p in pyr] == [32, 16, 8]


def test_texture_prefers_real_texture_over_blur(real: np.ndarray) -> None:
    other = real[::-1]  # the same kind of ground, other places
    blurred = gaussian_filter(real, sigma=(0, 2, 2, 0))
    same = texture_swd(other, real)["mean"]
    blur = texture_swd(blurred, real)["mean"]
    flat = texture_swd(np.full_like(real, 0.4) + 1e-3 * np.random.default_rng(1).random(real.shape), real)
    assert same < 0.7 * blur and blur < flat["mean"], (same, blur, flat)
    assert texture_swd(real, real, seed=3)["mean"] == texture_swd(real, real, seed=3)["mean"]


def test_palette_sees_colour_shares_not_places(real: np.ndarray) -> None:
    shuffled = real.reshape(-1, 3)[np.random.default_rng(0).permutation(real.size // 3)].reshape(real.shape)
    tinted = np.clip(real * [1.0, 0.8, 0.6], 0, 1)
    assert palette_swd(shuffled, real) < 1.0  # same colours elsewhere: Delta E well under 1
    assert palette_swd(tinted, real) > 5.0


def test_block_l1_forgives_texture_but_not_colour(real: np.ndarray) -> None:
    blurred = gaussian_filter(real, sigma=(0, 1, 1, 0))
    assert block_l1(real, real) == 0.0
    assert block_l1(blurred, real) < 0.02
    assert block_l1(np.clip(real + 0.1, 0, 1), real) > 0.08
