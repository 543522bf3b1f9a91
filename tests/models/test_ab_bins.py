"""The pieces that make colourisation more than a sepia filter: class-aware sampling, the Zhang et al.
ab-bin classification (bins, rebalancing, soft encoding, annealed mean), colourfulness, shipping."""

from __future__ import annotations

from itertools import islice

import numpy as np
import pytest
import torch

from areograph.data.colour import AB_EDGES, AB_GRID, class_sampling_weights
from areograph.evaluation.image_metrics import colourfulness, colourfulness_ratio
from areograph.models.ab_bins import ABBinUNet, annealed_mean, bins_from_histogram, soft_encode
from areograph.models.init import init_weights
from areograph.models.registry import build_model
from areograph.ship import half_state
from areograph.training.checkpoint import build_from_entry, cpu_state_dict
from areograph.training.schedule import WeightedStepSampler

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_group_shares_and_class_weights() -> None:
    classes = ["ground"] * 8 + ["horizon"] * 2 + ["wheel"] * 1 + ["drill"] * 1
    groups = ["scenery"] * 10 + ["hardware"] * 2
    w = class_sampling_weights(classes, groups, {"group_share": {"scenery": 1, "hardware": 3}})
    assert w[10:].sum() == pytest.approx(0.75) and w.sum() == pytest.approx(1)
    w = class_sampling_weights(
        classes, groups, {"group_share": {"scenery": 1, "hardware": 1}, "class_weights": {"wheel": 3}}
    )
    assert w[10] == pytest.approx(3 * w[11]) and w[:10].sum() == pytest.approx(0.5)
    assert class_sampling_weights(classes, [""] * 12, {"group_share": {"scenery": 1}}) is None  # unlabelled
    assert class_sampling_weights(classes, groups, None) is None
    with pytest.raises(ValueError, match="no share for class groups \\['hardware'\\]"):
        class_sampling_weights(classes, groups, {"group_share": {"scenery": 1}})


def test_weighted_sampler_is_a_pure_function_of_the_step() -> None:
    p = np.array([0.7, 0.2, 0.1])
    full = list(islice(iter(WeightedStepSampler(p, 4, seed=3)), 4 * 500))
    resumed = list(islice(iter(WeightedStepSampler(p, 4, seed=3, start_step=250)), 4 * 250))
    assert resumed == full[4 * 250 :]  # resume at step 250 sees exactly the same batches
    freq = np.bincount(full, minlength=3) / len(full)
    np.testing.assert_allclose(freq, p, atol=0.03)
    other = list(islice(iter(WeightedStepSampler(p, 4, seed=4)), 40))
    assert other != full[:40]
    with pytest.raises(ValueError):
        WeightedStepSampler(np.array([0.0, 0.0]), 2, 0)


def test_bins_and_rebalancing_weights_from_a_histogram() -> None:
    hist = np.zeros((AB_GRID, AB_GRID))
    mid = AB_GRID // 2
    hist[mid, mid] = 1_000_000  # grey dominates
    hist[mid + 2, mid + 3] = 50_000  # butterscotch-ish: a = 20, b = 30
    hist[mid - 3, mid] = 100  # a rare green
    centres, weights = bins_from_histogram(hist, AB_EDGES, min_fraction=1e-6)
    assert len(centres) == 3
    np.testing.assert_allclose(centres * 64, [[-30, 0], [0, 0], [20, 30]], atol=1e-4)
    assert weights[0] > weights[2] > weights[1]  # rarer colours weigh more
    # the smoothed prior's expectation of the weights is 1 (Zhang eq. 4)
    none_rebalanced = bins_from_histogram(hist, AB_EDGES, min_fraction=1e-6, lam=1.0)[1]
    np.testing.assert_allclose(none_rebalanced, 1.0, rtol=1e-5)


def test_soft_encoding_and_annealed_mean() -> None:
    centres = torch.tensor([[0.0, 0.0], [0.3, 0.0], [0.0, 0.3], [0.3, 0.3]])
    ab = torch.tensor([0.29, 0.01]).view(1, 2, 1, 1).expand(1, 2, 2, 3)
    z = soft_encode(ab, centres, k=2)
    assert z.shape == (1, 4, 2, 3)
    torch.testing.assert_close(z.sum(1), torch.ones(1, 2, 3))
    assert int(z[0, :, 0, 0].argmax()) == 1 and int((z[0, :, 0, 0] > 0).sum()) == 2
    logits = torch.log(torch.tensor([0.4, 0.3, 0.2, 0.1])).view(1, 4, 1, 1)
    mean = annealed_mean(logits, centres, temperature=1.0).flatten()
    torch.testing.assert_close(mean, torch.tensor([0.12, 0.09]))  # T = 1: the plain mean
    mode = annealed_mean(logits, centres, temperature=0.01).flatten()
    torch.testing.assert_close(mode, torch.tensor([0.0, 0.0]), atol=1e-4, rtol=0)  # T -> 0: the mode
    sharp = annealed_mean(logits, centres, temperature=0.38).flatten()
    assert (sharp < mean).all()  # between the two


def test_ab_bin_unet_outputs_ab_and_half_resolution_logits() -> None:
    centres = [[0.0, 0.0], [0.3, 0.1], [0.1, 0.4]]
    model = init_weights(build_model("ab_bins_unet", ngf=4, depth=5, centres=centres, weights=[1, 2, 3]))
    x = torch.randn(2, 1, 32, 32)
    logits = model(x, logits=True)
    assert logits.shape == (2, 3, 16, 16)
    model.eval()
    with torch.no_grad():
        ab = model(x)
    assert ab.shape == (2, 2, 32, 32)
    assert float(ab[:, 0].min()) >= 0 and float(ab[:, 0].max()) <= 0.3  # inside the bins' hull
    loss = model.loss(logits, torch.full((2, 2, 32, 32), 0.3))
    assert torch.isfinite(loss) and loss > 0
    with pytest.raises(ValueError, match="centres"):
        ABBinUNet(centres=[[0.0, 0.0, 0.0]])


def test_colourfulness_of_grey_constant_and_scaled_images() -> None:
    grey = np.full((8, 8, 3), 0.5)
    assert colourfulness(grey) == 0
    red = np.zeros((8, 8, 3))
    red[..., 0] = 1
    assert colourfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))  # no spread: 0.3 * mean term
    rng = np.random.default_rng(0)
    img = rng.uniform(0.2, 0.8, (16, 16, 3))
    washed = 0.5 + 0.5 * (img - 0.5)  # halve every opponent value
    assert colourfulness_ratio(washed, img) == pytest.approx(0.5)
    assert np.isnan(colourfulness_ratio(grey, grey))


def test_shipped_fp16_weights_load_and_predict_like_the_original() -> None:
    model = init_weights(build_model("ab_bins_unet", ngf=4, depth=5, centres=[[0.0, 0.0], [0.3, 0.3]])).eval()
    entry = {
        "spec": {"name": "ab_bins_unet", "kwargs": {"ngf": 4, "depth": 5, "centres": [[0, 0], [0.3, 0.3]]}}
    }
    shipped = half_state({"generator": entry | {"state_dict": cpu_state_dict(model)}})
    assert all(
        v.dtype == torch.float16 for v in shipped["generator"]["state_dict"].values() if v.is_floating_point()
    )
    loaded = build_from_entry(shipped["generator"], "shipped.pt").eval()
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), atol=2e-3, rtol=0)


class _Killed(Exception):
    """Stands in for a killed job."""


class _Weighted(torch.utils.data.Dataset):
    """Eight learnable L -> ab items, drawn by class weight (item 0 nine times as often as the others)."""

    def __init__(self, limit: int | None = None) -> None:
        g = torch.Generator().manual_seed(2)
        self.x = torch.rand(8, 1, 32, 32, generator=g) * 2 - 1
        self.sample_weights = np.array([9.0] + [1.0] * 7) / 16
        self.seen: list[int] = []
        self.limit = limit

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if self.limit is not None and len(self.seen) >= self.limit:
            raise _Killed
        self.seen.append(int(i))
        return {"cond": self.x[i], "target": torch.cat([self.x[i], -self.x[i]]) * 0.3}


def test_class_weighted_training_resumes_exactly(tmp_path) -> None:
    from areograph.training.checkpoint import load_file
    from areograph.training.trainer import TrainConfig, train

    spec = {"name": "unet", "kwargs": {"in_channels": 1, "out_channels": 2, "ngf": 4, "depth": 5}}
    cfg = TrainConfig(steps=8, checkpoint_every=4, device="cpu", batch_size=4, mode="regression")
    once = _Weighted()
    train(spec, None, once, cfg, tmp_path / "once")
    draws = once.seen[1:]  # the first read is the trainer's shape check
    assert len(draws) == 32 and draws.count(0) > 8  # about 9/16 of the draws, not 1/8
    with pytest.raises(_Killed):  # dies in step 5, after the step-4 checkpoint
        train(spec, None, _Weighted(limit=1 + 4 * 4), cfg, tmp_path / "resumed")
    resumed = _Weighted()
    train(spec, None, resumed, cfg, tmp_path / "resumed")
    assert resumed.seen[1:] == draws[4 * 4 :]  # the same batches after the checkpoint
    a = load_file(tmp_path / "once" / "model.pt")["generator"]["state_dict"]
    b = load_file(tmp_path / "resumed" / "model.pt")["generator"]["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
