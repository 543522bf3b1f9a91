"""The realism test: can a small network tell generated ground from real ground at the same places?

A classifier two-sample test (Lopez-Paz and Oquab 2017, "Revisiting Classifier Two-Sample Tests"): cut a
region's real imagery and a method's picture of the same region into 64 px patches at the same places,
train a small CNN to tell them apart on one part of the region, and score it on a part it never saw.
Accuracy 0.5 = indistinguishable; 1.0 = every patch gives itself away (a lattice, a wrong palette,
smears). The CNN sees what a person sees: RGB in [0, 1], nothing normalised away.

The parts are a checkerboard of 256 px blocks (4 x 4 patches): training and test ground interleave across
the whole region, so both see every kind of land cover, yet no test patch is near a training one.
A control runs the same test on real against real (each place's patch goes, by a seeded coin, to one of
two sets): it must come out near 0.5, or the test itself is broken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

PATCH_PX = 64
BLOCK_PATCHES = 4  # 256 px blocks of the train / test checkerboard
STEPS = 400
BATCH = 64


@dataclass(frozen=True)
class Patches:
    """Patch origins (row, col) on a region's grid, and whether each is in the training part."""

    origins: np.ndarray  # (N, 2) pixel rows, cols
    train: np.ndarray  # (N,) bool


def patch_grid(valid: np.ndarray, patch_px: int = PATCH_PX) -> Patches:
    """Every ``patch_px`` square of the regular grid that lies wholly on valid pixels, with its part."""
    h, w = valid.shape
    origins, train = [], []
    for y in range(0, h - patch_px + 1, patch_px):
        for x in range(0, w - patch_px + 1, patch_px):
            if valid[y : y + patch_px, x : x + patch_px].all():
                origins.append((y, x))
                by, bx = y // patch_px // BLOCK_PATCHES, x // patch_px // BLOCK_PATCHES
                train.append((by + bx) % 2 == 0)
    return Patches(np.array(origins, dtype=int).reshape(-1, 2), np.array(train, dtype=bool))


def _cut(image: np.ndarray, origins: np.ndarray, patch_px: int) -> np.ndarray:
    """(N, 3, p, p) float32 in [0, 1] from an (H, W, 3) uint8 image."""
    out = np.stack([image[y : y + patch_px, x : x + patch_px] for y, x in origins])
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def _critic() -> nn.Module:
    """A small CNN: four stride-2 3 x 3 convolutions (16-128 channels), global mean, one logit."""
    layers: list[nn.Module] = []
    ch = 3
    for width in (16, 32, 64, 128):
        layers += [nn.Conv2d(ch, width, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
        ch = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(ch, 1))


def two_sample_accuracy(
    a: np.ndarray, b: np.ndarray, train: np.ndarray, seed: int = 0, steps: int = STEPS
) -> float:
    """Held-out accuracy of a CNN telling patch set ``a`` (label 1) from ``b`` (label 0).

    ``a`` and ``b`` are (N, 3, p, p) patches at the same N places; ``train`` marks the places it may
    learn from, and it is scored on the others (both sets, so chance is exactly 0.5).
    """
    if not train.any() or train.all():
        raise ValueError("the realism test needs patches in both its training and its test part")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    critic = _critic()
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    xa, xb = torch.from_numpy(a[train]), torch.from_numpy(b[train])
    n = len(xa)
    critic.train()
    for _ in range(steps):
        ia = torch.randint(0, n, (BATCH // 2,), generator=gen)
        ib = torch.randint(0, n, (BATCH // 2,), generator=gen)
        flip = torch.rand(BATCH, generator=gen) < 0.5
        x = torch.cat([xa[ia], xb[ib]])
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)  # the only augmentation: mirror
        y = torch.cat([torch.ones(BATCH // 2), torch.zeros(BATCH // 2)])
        opt.zero_grad()
        loss_fn(critic(x).squeeze(1), y).backward()
        opt.step()
    critic.eval()
    with torch.inference_mode():
        ta, tb = torch.from_numpy(a[~train]), torch.from_numpy(b[~train])
        right = (critic(ta).squeeze(1) > 0).sum() + (critic(tb).squeeze(1) <= 0).sum()
    return float(right) / (2 * len(ta))


def realism_accuracy(
    real: np.ndarray, generated: np.ndarray, valid: np.ndarray, seed: int = 0, steps: int = STEPS
) -> float:
    """The realism test of one picture of a region against its real imagery ((H, W, 3) uint8 each)."""
    if real.shape != generated.shape:
        raise ValueError(f"real {real.shape} and generated {generated.shape} pictures differ in size")
    grid = patch_grid(valid)
    return two_sample_accuracy(
        _cut(real, grid.origins, PATCH_PX), _cut(generated, grid.origins, PATCH_PX), grid.train, seed, steps
    )


def real_vs_real_accuracy(real: np.ndarray, valid: np.ndarray, seed: int = 0, steps: int = STEPS) -> float:
    """The control: the test on two disjoint sets of real patches (a seeded coin per place); ~0.5."""
    grid = patch_grid(valid)
    coin = np.random.default_rng(seed).random(len(grid.origins)) < 0.5
    patches = _cut(real, grid.origins, PATCH_PX)
    # pair each "a" place with a "b" place in the same part, so both sets have the same count per part
    pairs_a, pairs_b, train = [], [], []
    for part in (True, False):
        ia = np.flatnonzero(coin & (grid.train == part))
        ib = np.flatnonzero(~coin & (grid.train == part))
        k = min(len(ia), len(ib))
        pairs_a.append(ia[:k])
        pairs_b.append(ib[:k])
        train.append(np.full(k, part))
    ia, ib = np.concatenate(pairs_a), np.concatenate(pairs_b)
    return two_sample_accuracy(patches[ia], patches[ib], np.concatenate(train), seed, steps)
