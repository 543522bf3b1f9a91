"""Paired augmentation keeps both images of a pair aligned."""

from __future__ import annotations

import numpy as np
import pytest

from areograph.data.augment import paired_augment


def _coordinates(size: int) -> np.ndarray:
    """(2,H,W): channel 0 the row index, channel 1 the column index, so position is readable."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return np.stack([yy, xx])


def test_cond_and_target_get_the_same_resize_crop_and_flip_over_many_draws() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(-1, 1, size=(1, 32, 32)).astype(np.float32)
    target = np.concatenate([base, -base, 0.5 * base])  # 3 channels derived pixelwise from cond
    offsets = set()
    for _ in range(100):
        cond_out, target_out = paired_augment([base, target], load_px=36, crop_px=32, rng=rng)
        assert cond_out.shape == (1, 32, 32) and target_out.shape == (3, 32, 32)
        np.testing.assert_array_equal(target_out[0], cond_out[0])
        np.testing.assert_allclose(target_out[1], -cond_out[0], atol=1e-6)
        np.testing.assert_allclose(target_out[2], 0.5 * cond_out[0], atol=1e-6)
        offsets.add(float(cond_out[0, 0, 0]))
    assert len(offsets) > 10  # crops really vary (flips: next test), so the equalities mean something


def test_crop_and_flip_are_the_drawn_window_of_the_input() -> None:
    """Without resizing, each output is exactly a (possibly mirrored) window of the coordinate image."""
    coords = _coordinates(20)
    rng = np.random.default_rng(3)
    seen_flip = seen_plain = False
    for _ in range(50):
        (out,) = paired_augment([coords], load_px=20, crop_px=12, rng=rng)
        top, left = int(out[0, 0, :].min()), int(out[1].min())
        window = coords[:, top : top + 12, left : left + 12]
        if out[1, 0, 0] > out[1, 0, -1]:
            seen_flip = True
            np.testing.assert_array_equal(out, window[:, :, ::-1])
        else:
            seen_plain = True
            np.testing.assert_array_equal(out, window)
    assert seen_flip and seen_plain


def test_values_stay_in_minus_one_to_one() -> None:
    rng = np.random.default_rng(5)
    img = np.where(rng.random((3, 16, 16)) > 0.5, 1.0, -1.0).astype(np.float32)  # worst case for overshoot
    (out,) = paired_augment([img], load_px=29, crop_px=16, rng=rng)
    assert out.min() >= -1.0 and out.max() <= 1.0


def test_mismatched_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="one spatial size"):
        paired_augment([np.zeros((1, 8, 8)), np.zeros((3, 8, 9))], 10, 8, np.random.default_rng())
    with pytest.raises(ValueError, match="exceeds load_px"):
        paired_augment([np.zeros((1, 8, 8))], 8, 10, np.random.default_rng())
