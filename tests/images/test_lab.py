"""RGB <-> scaled LAB: ranges, known colours and round trips on real Mars colours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from areograph.images.lab import AB_SCALE, grey_to_l_scaled, lab_scaled_to_rgb, rgb_to_lab_scaled


@pytest.fixture(scope="module")
def mars_rgb(sample_dir: Path) -> np.ndarray:
    path = sample_dir / "rovers" / "colour" / "0003ML0000000810100101E01_DRCL.JPG"
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def test_shapes_ranges_and_known_colours() -> None:
    rgb = np.zeros((2, 3, 3), np.float32)
    rgb[0] = 1.0  # white row, black row
    lightness, ab = rgb_to_lab_scaled(rgb)
    assert lightness.shape == (1, 2, 3) and ab.shape == (2, 2, 3)
    assert lightness.dtype == ab.dtype == np.float32
    np.testing.assert_allclose(lightness[0, 0], 1.0, atol=1e-4)
    np.testing.assert_allclose(lightness[0, 1], -1.0, atol=1e-4)
    np.testing.assert_allclose(ab, 0.0, atol=1e-4)


def test_round_trip_on_a_real_mars_frame(mars_rgb: np.ndarray) -> None:
    lightness, ab = rgb_to_lab_scaled(mars_rgb)
    assert lightness.min() >= -1 and lightness.max() <= 1 and np.abs(ab).max() < 1  # nothing clipped
    back = lab_scaled_to_rgb(lightness, ab)
    assert back.shape == mars_rgb.shape and back.dtype == np.float32
    assert np.abs(back - mars_rgb).max() < 1 / 255


def test_uint8_input_and_two_dimensional_l(mars_rgb: np.ndarray) -> None:
    as_uint8 = np.round(mars_rgb * 255).astype(np.uint8)
    lightness, ab = rgb_to_lab_scaled(as_uint8)
    np.testing.assert_allclose(lab_scaled_to_rgb(lightness[0], ab), mars_rgb, atol=1 / 255)


def test_vivid_colours_clip_to_the_ab_range() -> None:
    green = np.array([[[0.0, 1.0, 0.0]]], np.float32)  # a* = -86 lies outside +-AB_SCALE
    _, ab = rgb_to_lab_scaled(green)
    assert AB_SCALE < 86 and ab[0, 0, 0] == -1.0
    out = lab_scaled_to_rgb(np.zeros((1, 1, 1)), np.full((2, 1, 1), 5.0))  # overshoot is clipped too
    assert out.min() >= 0 and out.max() <= 1


def test_grey_input_has_no_chroma_and_matches_rgb_lightness() -> None:
    grey = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    lightness = grey_to_l_scaled(grey)
    rgb_l, rgb_ab = rgb_to_lab_scaled(np.repeat(grey[..., None], 3, axis=2))
    np.testing.assert_array_equal(lightness, rgb_l)
    assert np.abs(rgb_ab).max() < 1e-4
    np.testing.assert_allclose(lab_scaled_to_rgb(lightness, np.zeros((2, 3, 4)))[..., 1], grey, atol=1e-3)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        rgb_to_lab_scaled(np.full((2, 2, 3), 2.0))
    with pytest.raises(ValueError, match="shape"):
        rgb_to_lab_scaled(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="ab of shape"):
        lab_scaled_to_rgb(np.zeros((1, 2, 2)), np.zeros((2, 3, 3)))
