"""Image metrics and the colour-by-elevation baseline."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from areograph.evaluation.baselines import ElevationColourLookup
from areograph.evaluation.image_metrics import ciede2000, l1, psnr, ssim, unit_rgb


def _image(seed: int = 0, size: int = 24) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.2, 0.8, size=(size, size, 3))


def test_l1_and_psnr_known_values() -> None:
    truth = _image()
    pred = truth + 0.1  # MSE 0.01 -> PSNR 20 dB
    assert l1(pred, truth) == pytest.approx(0.1)
    assert psnr(pred, truth) == pytest.approx(20.0)
    assert psnr(truth, truth) == math.inf


def test_ssim_is_one_for_identical_and_lower_for_noise() -> None:
    truth = _image()
    noisy = np.clip(truth + np.random.default_rng(1).normal(0, 0.1, truth.shape), 0, 1)
    assert ssim(truth, truth) == pytest.approx(1.0)
    assert ssim(noisy, truth) < 0.9


def test_ciede2000_black_vs_white_is_100_and_identical_is_0() -> None:
    black, white = np.zeros((8, 8, 3)), np.ones((8, 8, 3))
    assert ciede2000(black, white) == pytest.approx(100.0, abs=0.01)
    assert ciede2000(white, white) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ciede2000(black - 0.5, white)


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match=r"\(H,W,3\)"):
        l1(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)))


def test_unit_rgb_converts_model_range_to_hwc_unit() -> None:
    chw = np.stack([np.full((2, 3), -1.0), np.zeros((2, 3)), np.ones((2, 3))])
    out = unit_rgb(chw)
    assert out.shape == (2, 3, 3)
    np.testing.assert_allclose(out[0, 0], [0.0, 0.5, 1.0])


def test_lookup_learns_colour_by_height_and_round_trips_through_json() -> None:
    rng = np.random.default_rng(0)
    elev = rng.uniform(0, 4000, size=(3, 20, 20))
    rgb = np.where((elev < 2000)[..., None], [20, 120, 30], [240, 240, 250]).astype(np.uint8)
    lookup = ElevationColourLookup.fit(elev, rgb, bins=16)
    pred = lookup.predict(np.array([[100.0, 3900.0], [-500.0, 9000.0]]))
    np.testing.assert_allclose(pred[0, 0], np.array([20, 120, 30]) / 255, atol=1e-9)
    np.testing.assert_allclose(pred[0, 1], np.array([240, 240, 250]) / 255, atol=1e-9)
    np.testing.assert_allclose(pred[1], pred[0])  # beyond the fitted range: nearest end bin
    again = ElevationColourLookup.from_dict(json.loads(json.dumps(lookup.to_dict())))
    np.testing.assert_array_equal(again.predict(elev[0]), lookup.predict(elev[0]))


def test_lookup_fills_empty_bins_from_neighbours() -> None:
    elev = np.array([[0.0, 0.0, 100.0, 100.0]])  # the middle bins are empty
    rgb = np.array([[[0, 0, 0], [0, 0, 0], [1, 1, 1], [1, 1, 1]]], dtype=np.float64)
    lookup = ElevationColourLookup.fit(elev, rgb, bins=4)
    assert lookup.counts.tolist() == [2, 0, 0, 2]
    mid = lookup.predict(np.array([[50.0]]))[0, 0]
    np.testing.assert_allclose(mid, [0.5, 0.5, 0.5])
