"""What happens at each step, as pure functions of the step: the learning rate and the batch indices.

The pix2pix learning rate is constant, then decays linearly to zero. Keeping it (and the data order)
a pure function of the step makes both testable and makes resuming exact: nothing about them is
carried as hidden state.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import Sampler

from areograph.data.augment import ItemKey


def decay_start(total: int, decay_start_fraction: float) -> int:
    """First step whose learning rate is below the base rate (``floor(total * fraction)``)."""
    return math.floor(total * decay_start_fraction)


def lr_factor(step: int, total: int, decay_start_fraction: float = 0.5) -> float:
    """Multiplier of the base LR for the update at ``step`` (0-based) of a ``total``-step run.

    1 for steps before ``decay_start``; then linear, reaching 0 at ``step == total`` (the last update,
    ``total - 1``, still gets a small non-zero rate, as in the reference's epoch-based rule).
    """
    if total <= 0:
        raise ValueError(f"total steps must be positive, got {total}")
    if not 0.0 <= decay_start_fraction <= 1.0:
        raise ValueError(f"decay_start_fraction must lie in [0, 1], got {decay_start_fraction}")
    start = decay_start(total, decay_start_fraction)
    if step < start or total == start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / (total - start))


def make_scheduler(optimizer: Optimizer, total: int, decay_start_fraction: float) -> LambdaLR:
    """A LambdaLR driven by :func:`lr_factor`; call ``.step()`` once after each optimiser update."""
    return LambdaLR(optimizer, lambda step: lr_factor(step, total, decay_start_fraction))


def set_lr_for_step(scheduler: LambdaLR, step: int, total: int, decay_start_fraction: float) -> None:
    """Put ``scheduler`` and its optimiser at ``step`` of a ``total``-step run (after a resume).

    Needed because a resumed run may have a different ``total`` (training extended): the restored
    optimiser holds the rate of the old schedule, which must be replaced by the new one.
    """
    factor = lr_factor(step, total, decay_start_fraction)
    scheduler.last_epoch = step
    for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs, strict=True):
        group["lr"] = base * factor
    scheduler._last_lr = [group["lr"] for group in scheduler.optimizer.param_groups]


class StepSampler(Sampler[int]):
    """The data schedule: endless sample indices that are a pure function of the step, like the LR.

    Per-epoch permutations are seeded by (seed, epoch), so a run resumed at step s sees exactly the
    batches an uninterrupted one would. Ranks take disjoint shards of each global batch: at step s,
    rank r reads global positions [(s*W + r)*B, (s*W + r + 1)*B) of the permutation stream. With
    ``keyed`` each index comes as an :class:`~areograph.data.augment.ItemKey` carrying that global
    position, from which the dataset derives the item's augmentation (exact resume, no saved state).
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        seed: int,
        start_step: int = 0,
        rank: int = 0,
        world: int = 1,
        keyed: bool = False,
    ) -> None:
        if n < 1:
            raise ValueError("training dataset is empty")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start_step, self.rank, self.world = start_step, rank, world
        self.keyed = keyed

    def _perm(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.n)

    def __iter__(self) -> Iterator[int]:
        step, epoch, perm = self.start_step, -1, np.empty(0, dtype=np.int64)
        while True:
            first = (step * self.world + self.rank) * self.batch_size
            for pos in range(first, first + self.batch_size):
                if pos // self.n != epoch:
                    epoch = pos // self.n
                    perm = self._perm(epoch)
                index = int(perm[pos % self.n])
                yield ItemKey(index, pos) if self.keyed else index
            step += 1


class WeightedStepSampler(Sampler[int]):
    """Class-aware data schedule: each step's batch drawn (with replacement) by per-item weights.

    The draw for step s is a pure function of (seed, step, rank), like :class:`StepSampler`'s order,
    so a run resumed at step s sees exactly the batches an uninterrupted one would. Indices come as
    :class:`~areograph.data.augment.ItemKey` with their stream position, so augmentation is exact too.
    """

    def __init__(
        self,
        weights: np.ndarray,
        batch_size: int,
        seed: int,
        start_step: int = 0,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        p = np.asarray(weights, dtype=np.float64)
        if p.ndim != 1 or p.size < 1 or np.any(p < 0) or p.sum() <= 0:
            raise ValueError("sample weights must be 1-D, non-negative and not all 0")
        self.p, self.batch_size, self.seed = p / p.sum(), batch_size, seed
        self.start_step, self.rank, self.world = start_step, rank, world

    def __iter__(self) -> Iterator[int]:
        step = self.start_step
        while True:
            rng = np.random.default_rng([self.seed, step, self.rank, 7])
            first = (step * self.world + self.rank) * self.batch_size
            for slot, i in enumerate(rng.choice(self.p.size, self.batch_size, p=self.p)):
                yield ItemKey(int(i), first + slot)
            step += 1
