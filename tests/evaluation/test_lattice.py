"""The lattice metric: near 1-5 on real imagery, high on a checkerboard or a dot grid, on real files."""

from __future__ import annotations

import numpy as np
import pytest

from areograph.evaluation.lattice import PERIODS, lattice_ratios, worst_lattice
from areograph.geo.geotiff import read_rgb


@pytest.fixture(scope="module")
def real_rgb(sample_dir) -> np.ndarray:
    """Real Sentinel-2 cloudless imagery of the sample (the western Sierra Nevada), as delivered."""
    return read_rgb(sample_dir / "earth" / "s2cloudless2020_sierra_nevada_west.tif")[0]


def test_real_imagery_has_no_lattice(real_rgb):
    ratios = lattice_ratios(real_rgb)
    assert set(ratios) == set(PERIODS)
    assert worst_lattice(ratios) < 10, ratios


@pytest.mark.parametrize(("period", "levels"), [(2, 2), (4, 2), (8, 2), (16, 2), (32, 8), (64, 8)])
def test_a_faint_grid_over_real_imagery_is_found_at_its_period(real_rgb, period, levels):
    """A grid of +-``levels`` grey levels (of 255) over the real picture: lost in a quicklook, not here."""
    h, w, _ = real_rgb.shape
    yy, xx = np.mgrid[:h, :w]
    grid = levels * (np.cos(2 * np.pi * xx / period) + np.cos(2 * np.pi * yy / period))
    gridded = real_rgb.astype(np.float64) + grid[..., None]
    clean, dirty = lattice_ratios(real_rgb), lattice_ratios(gridded)
    assert dirty[period] > 20, dirty
    assert dirty[period] > 5 * clean[period], (clean, dirty)


def test_diagonal_checkerboard_is_found():
    rng = np.random.default_rng(0)
    noise = rng.normal(128, 20, (512, 512))
    yy, xx = np.mgrid[:512, :512]
    board = noise + 10 * ((yy + xx) % 2)
    ratios = lattice_ratios(np.repeat(board[..., None], 3, axis=2))
    assert ratios[2] > 100
    plain = lattice_ratios(np.repeat(noise[..., None], 3, axis=2))
    assert worst_lattice(plain) < 5, plain


def test_masked_pixels_are_left_out_and_too_small_is_an_error(real_rgb):
    """A checkerboard under the mask does not count; the same board in view does."""
    board = real_rgb.astype(np.float64).copy()
    yy, xx = np.mgrid[: board.shape[0], : board.shape[1]]
    board[512:] += 20 * ((yy[512:] + xx[512:]) % 2)[..., None]
    valid = np.zeros(real_rgb.shape[:2], bool)
    valid[:512, :512] = True
    assert lattice_ratios(board, valid)[2] < 30
    assert lattice_ratios(board)[2] > 1000
    assert set(lattice_ratios(real_rgb[:100, :100])) == {2, 4, 8, 16, 32}  # the periods a 64 px crop holds
    with pytest.raises(ValueError, match="no valid square"):
        lattice_ratios(real_rgb[:3, :3])


def test_a_flat_picture_has_no_lattice():
    flat = np.full((512, 512, 3), 117, np.uint8)
    assert worst_lattice(lattice_ratios(flat)) == 0.0  # exactly: no peak above 8-bit rounding noise
    valid = np.ones((512, 512), bool)
    valid[:3] = False  # a few masked pixels: the crop's mean is float-rounded, its spectrum ~1e-30
    assert worst_lattice(lattice_ratios(flat, valid)) == 0.0
