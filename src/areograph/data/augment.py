"""Paired augmentation as in pix2pix: resize up, random crop back, random horizontal flip.

The conditioning elevation and the target image of a pair must receive the *same* geometric
transform, or the model learns from misaligned pairs. Here all arrays are stacked along the
channel axis and transformed as one tensor, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F


def paired_augment(
    arrays: Sequence[np.ndarray], load_px: int, crop_px: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Resize every (C,H,W) array to ``load_px``, then apply one random crop and one random flip to all.

    Resizing is bilinear (a convex combination of neighbours), so values stay within the input
    range, e.g. [-1, 1]; when ``load_px`` equals the input size no resampling happens. The crop
    offset and the flip (probability 0.5) are drawn once from ``rng`` and shared by all arrays.
    Returns float32 arrays of shape (C_i, crop_px, crop_px), in input order.
    """
    if not arrays:
        raise ValueError("paired_augment needs at least one array")
    shapes = [np.shape(a) for a in arrays]
    if any(len(s) != 3 for s in shapes) or len({s[1:] for s in shapes}) != 1:
        raise ValueError(f"paired_augment needs (C,H,W) arrays of one spatial size, got shapes {shapes}")
    height, width = shapes[0][1:]
    if crop_px > load_px:
        raise ValueError(f"crop_px {crop_px} exceeds load_px {load_px}")
    channels = [s[0] for s in shapes]
    stacked = torch.from_numpy(np.concatenate([np.asarray(a, dtype=np.float32) for a in arrays], axis=0))
    if (height, width) != (load_px, load_px):
        resized = F.interpolate(stacked[None], size=(load_px, load_px), mode="bilinear", align_corners=False)
        stacked = resized[0]
    top = int(rng.integers(0, load_px - crop_px + 1))
    left = int(rng.integers(0, load_px - crop_px + 1))
    flip = bool(rng.random() < 0.5)
    out = stacked[:, top : top + crop_px, left : left + crop_px]
    if flip:
        out = torch.flip(out, dims=(2,))
    parts = torch.split(out, channels, dim=0)
    return [np.ascontiguousarray(p.numpy(), dtype=np.float32) for p in parts]


class ItemKey(int):
    """A dataset index that also carries its draw number: the item's position in the sample stream.

    The trainer's sampler yields these (``StepSampler(keyed=True)``); the position is a pure function
    of (step, rank, slot in the batch), so a resumed run, any DataLoader worker and any DDP rank derive
    the same augmentation for the same draw, and nothing needs saving in the checkpoint. It is an
    ``int`` so that datasets that ignore augmentation index arrays with it as before.
    """

    draw: int

    def __new__(cls, index: int, draw: int) -> ItemKey:
        key = super().__new__(cls, index)
        key.draw = int(draw)
        return key

    def __reduce__(self) -> tuple[type[ItemKey], tuple[int, int]]:  # DataLoader workers get it pickled
        return (ItemKey, (int(self), self.draw))

    def __repr__(self) -> str:
        return f"ItemKey({int(self)}, draw={self.draw})"


def split_key(key: int) -> tuple[int, int | None]:
    """(index, draw) of a dataset key; draw is None for a plain index (direct access, evaluation)."""
    return int(key), getattr(key, "draw", None)


def item_rng(seed: int, draw: int | None, index: int) -> np.random.Generator:
    """The random generator for one dataset item's augmentation: a pure function of its arguments.

    ``draw`` is the item's position in the training sample stream (see :class:`ItemKey`), so the same
    tile drawn in two epochs is augmented differently, yet a resumed or re-sharded run repeats every
    draw exactly. A plain index (``draw`` None, e.g. ``dataset[i]``) always gets the same augmentation.
    """
    if draw is None:
        return np.random.default_rng([seed, index, 0])
    return np.random.default_rng([seed, index, 1, draw])
