"""Overlapping-window blended inference."""

from __future__ import annotations

import numpy as np
import pytest

from areograph.render.seams import seam_ratio
from areograph.render.windows import blend_bands, blend_weight, predict_blended


def _identity(batch: np.ndarray) -> np.ndarray:
    return batch.copy()


def test_blend_weight_peaks_in_the_centre_and_stays_positive() -> None:
    w = blend_weight(33)
    assert w.shape == (33, 33)
    assert w[16, 16] == pytest.approx(1.0) and w.max() == w[16, 16]
    assert 0 < w[0, 0] < 0.01 and 0 < w[0, 16] < 0.1
    np.testing.assert_allclose(w, w.T)
    np.testing.assert_allclose(w, w[::-1, ::-1])


@pytest.mark.parametrize(
    ("height", "width", "window", "overlap"), [(37, 53, 16, 6), (31, 29, 8, 4), (40, 24, 8, 0)]
)
def test_identity_model_returns_the_input(height: int, width: int, window: int, overlap: int) -> None:
    image = np.random.default_rng(0).normal(size=(2, height, width)).astype(np.float32)
    out = predict_blended(image, _identity, window, overlap, batch_size=3)
    assert out.shape == image.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, image, atol=1e-5)


def test_window_larger_than_the_image() -> None:
    image = np.random.default_rng(1).normal(size=(3, 10, 7)).astype(np.float32)
    sizes = []

    def predict(batch: np.ndarray) -> np.ndarray:
        sizes.append(batch.shape)
        return batch[:, :1] * 2

    out = predict_blended(image, predict, window_px=32, overlap_px=8)
    assert all(s[1:] == (3, 32, 32) for s in sizes)
    np.testing.assert_allclose(out, image[:1] * 2, atol=1e-5)


def _offset_model(seed: int):
    """A model that disagrees with its neighbours: each window gets its own random constant."""
    rng = np.random.default_rng(seed)

    def predict(batch: np.ndarray) -> np.ndarray:
        return batch + rng.uniform(0, 10, size=(batch.shape[0], 1, 1, 1)).astype(np.float32)

    return predict


def _max_jump(image: np.ndarray) -> float:
    return float(max(np.abs(np.diff(image, axis=1)).max(), np.abs(np.diff(image, axis=2)).max()))


def test_blending_hides_seams_that_plain_pasting_shows() -> None:
    image = np.zeros((1, 96, 96), dtype=np.float32)
    pasted = predict_blended(image, _offset_model(0), window_px=32, overlap_px=0)
    blended = predict_blended(image, _offset_model(0), window_px=32, overlap_px=16)
    assert _max_jump(pasted) > 3.0  # non-overlapping paste: windows' offsets differ by up to 10 at seams
    # blended: neighbouring pixels differ by about (offset difference) x (weight slope ~ pi / 2 overlap)
    assert _max_jump(blended) < 0.2 * _max_jump(pasted)
    assert _max_jump(blended) < 1.5 * 10 / 16


def test_batches_respect_batch_size_and_bad_outputs_are_rejected() -> None:
    image = np.zeros((1, 40, 40), dtype=np.float32)
    batches = []

    def predict(batch: np.ndarray) -> np.ndarray:
        batches.append(len(batch))
        return batch

    predict_blended(image, predict, window_px=16, overlap_px=8, batch_size=4)
    assert max(batches) == 4 and sum(batches) > 4
    with pytest.raises(ValueError, match="predict returned shape"):
        predict_blended(image, lambda b: b[:, :, :8], window_px=16, overlap_px=8)
    with pytest.raises(ValueError, match="overlap_px < window_px"):
        predict_blended(image, predict, window_px=16, overlap_px=16)


def test_blend_bands_at_overlap_0_are_where_a_pasted_render_jumps() -> None:
    image = np.zeros((1, 90, 70), dtype=np.float32)
    pasted = predict_blended(image, _offset_model(1), window_px=32, overlap_px=0)
    rows, cols = blend_bands(90, 70, 32, 0)
    jump_rows = [r + 1 for r in np.flatnonzero(np.abs(np.diff(pasted[0], axis=0)).max(axis=1) > 1e-4)]
    jump_cols = [c + 1 for c in np.flatnonzero(np.abs(np.diff(pasted[0], axis=1)).max(axis=0) > 1e-4)]
    assert [lo for lo, hi in rows] == [hi for lo, hi in rows] == jump_rows
    assert [lo for lo, _ in cols] == jump_cols
    assert all(hi - lo == 8 for lo, hi in blend_bands(90, 70, 32, 8)[0])  # overlapping: 8 px cross-fades


def _toned_noisy_model(seed: int):
    """Each window its own tone (what a user sees as blocks) plus per-pixel noise (the model's own)."""
    rng = np.random.default_rng(seed)

    def predict(batch: np.ndarray) -> np.ndarray:
        tone = rng.uniform(0, 1, size=(batch.shape[0], 1, 1, 1))
        return (batch + tone + rng.normal(0, 1, batch.shape)).astype(np.float32)

    return predict


def test_seam_ratio_falls_as_the_cross_fade_widens() -> None:
    image = np.random.default_rng(0).normal(size=(3, 512, 512)).astype(np.float32)  # texture, no seams
    assert seam_ratio(image, *blend_bands(512, 512, 64, 0)) == pytest.approx(1.0, abs=0.15)
    ratios = {}
    for overlap in (0, 8, 32):
        out = predict_blended(image, _toned_noisy_model(1), window_px=64, overlap_px=overlap)
        ratios[overlap] = seam_ratio(out, *blend_bands(512, 512, 64, overlap), sigma=4, reference=image)
    assert ratios[0] > 8 and ratios[0] > ratios[8] > 2 * ratios[32]
    assert ratios[32] < 1.6  # a 32 px cross-fade of a 64 px window: tone changes too slowly to see
    with pytest.raises(ValueError, match="window border"):
        seam_ratio(image, [], [])
    with pytest.raises(ValueError, match="reference shape"):
        seam_ratio(image, *blend_bands(512, 512, 64, 0), reference=image[:, :10])


def test_generator_predictor_matches_a_plain_forward() -> None:
    """channels_last + inference mode are a speed-up only: the same numbers as the plain eval forward."""
    import torch

    from areograph.models.init import init_weights
    from areograph.models.registry import build_model
    from areograph.render.mosaic import generator_predictor

    torch.manual_seed(0)
    model = init_weights(build_model("unet", in_channels=1, out_channels=3, ngf=4, depth=5)).eval()
    batch = np.random.default_rng(0).uniform(-1, 1, (3, 1, 32, 32)).astype(np.float32)
    with torch.no_grad():
        plain = model(torch.from_numpy(batch)).clamp(-1, 1).numpy()
    out = generator_predictor(model, precision="fp32")(batch)
    assert out.shape == (3, 3, 32, 32) and out.flags.c_contiguous
    np.testing.assert_allclose(out, plain, atol=1e-5)
    # The default (bf16 where this CPU has it natively) stays within a few 8-bit levels of fp32.
    fast = generator_predictor(model)(batch)
    assert np.abs(fast - plain).max() * 127.5 < 4
