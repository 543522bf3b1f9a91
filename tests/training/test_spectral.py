"""The spectral loss: zero for the same spectrum, higher with a printed grid, and it trains."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from areograph.training.spectral import spectral_loss
from areograph.training.trainer import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _land(n: int, seed: int) -> torch.Tensor:
    """Smooth random RGB fields in [-1, 1] with a little fine noise: land-cover-like spectra."""
    g = torch.Generator().manual_seed(seed)
    low = F.interpolate(torch.rand(n, 3, 8, 8, generator=g) * 2 - 1, size=(64, 64), mode="bicubic")
    return (low + 0.05 * torch.randn(n, 3, 64, 64, generator=g)).clamp(-1, 1)


def test_same_images_score_zero_and_a_4px_grid_scores_higher() -> None:
    real = _land(4, 0)
    assert float(spectral_loss(real, real)) == 0.0
    other = float(spectral_loss(_land(4, 1), real))  # other land of the same kind
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    grid = 0.1 * (((yy // 2) + (xx // 2)) % 2).float() * 2 - 0.1  # a 4 px dot grid
    printed = float(spectral_loss(_land(4, 1) + grid, real))
    # a mean over every bin: the grid's few bins move it by a few hundredths, the land itself by more
    assert printed > other + 0.03, (printed, other)


def test_it_has_gradients_and_refuses_other_shapes() -> None:
    fake = _land(2, 2).requires_grad_(True)
    spectral_loss(fake, _land(2, 3)).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="needs \\(N, 3, H, W\\) RGB"):
        spectral_loss(torch.zeros(2, 2, 8, 8), torch.zeros(2, 2, 8, 8))


def test_only_pix2pix_takes_a_spectral_weight() -> None:
    TrainConfig(steps=1, lambda_spectral=1.0)
    with pytest.raises(ValueError, match="lambda_spectral"):
        TrainConfig(steps=1, mode="regression", lambda_spectral=1.0)


def test_a_spectral_run_logs_its_term(tmp_path: Path) -> None:
    from tests.training.test_trainer import D_SPEC, Pairs, _cfg, _rows

    spec = {"name": "unet", "kwargs": {"in_channels": 1, "out_channels": 3, "ngf": 4, "depth": 5}}
    model = train(spec, D_SPEC, Pairs(), _cfg(steps=2, lambda_spectral=1.0), tmp_path / "run")
    rows = _rows(model.parent / "losses.csv")
    assert len(rows) == 2 and all(float(r["g_spectral"]) > 0 for r in rows)
