"""The one base of the training datasets: one split of a packed set, with keyed paired augmentation.

Both products train on (cond, target) pairs cut from a packed ``.npz`` (artefacts/packed.py): terrain
on (conditioning, RGB) tiles, colourisation on (L, ab) patches. What they share lives here once: which
split and file they read, the seed, whether and how they augment (resize to ``load_px``, crop back
to ``crop_px``, flip), and the item recipe ``split_key`` -> ``item_rng`` -> ``paired_augment``, so
that a resumed run, any worker and any rank draw the same crop and flip for the same draw number.
Subclasses say only how to read their arrays, what an item's raw pair is and which labels it carries.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from areograph.artefacts.packed import read_split
from areograph.data.augment import item_rng, paired_augment, split_key


class PackedSplitDataset(Dataset):
    """One split of a packed set as ``{"cond": tensor, "target": tensor, **labels}`` items.

    A subclass calls ``super().__init__`` first, reads its arrays with :meth:`read`, sets the
    augmentation sizes with :meth:`set_sizes`, and implements ``__len__``, :meth:`raw_pair` (the
    item's float32 (C,H,W) cond and target as stored) and :meth:`labels` (its non-tensor fields).
    With ``augment`` each item is resized to ``load_px``, cropped back to ``crop_px`` and flipped,
    one draw shared by cond and target, from the generator keyed on ``seed``, the index and the draw
    number the trainer's sampler passes in (:class:`~areograph.data.augment.ItemKey`).
    """

    what = "items"  # how a missing split names the items ("tiles", "patches")
    size_name = "item size"  # how a too small load_px names crop_px

    def __init__(self, packed: Path | str, split: str, augment: bool, seed: int) -> None:
        self.packed = Path(packed)
        self.split = split
        self.augment = augment
        self.seed = seed
        self.load_px = self.crop_px = 0

    def read(
        self, keys: Sequence[str], *, whole: Sequence[str] = (), optional: Collection[str] = ()
    ) -> dict[str, np.ndarray]:
        """This split's arrays of the packed file (see :func:`~areograph.artefacts.packed.read_split`)."""
        return read_split(self.packed, self.split, keys, whole=whole, optional=optional, what=self.what)

    def set_sizes(self, load_px: int, crop_px: int) -> None:
        """Augmentation sizes: resize to ``load_px``, crop back to ``crop_px`` (the stored item size)."""
        if self.augment and load_px < crop_px:
            raise ValueError(f"load_px {load_px} is smaller than the {self.size_name} {crop_px}")
        self.load_px, self.crop_px = load_px, crop_px

    def __len__(self) -> int:
        raise NotImplementedError

    def raw_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The item's (cond, target) as float32 (C,H,W) arrays, before augmentation."""
        raise NotImplementedError

    def labels(self, index: int) -> dict[str, Any]:
        """The item's fields besides cond and target (its tile id, its frame name)."""
        raise NotImplementedError

    def __getitem__(self, key: int) -> dict[str, Any]:
        index, draw = split_key(key)  # the trainer's sampler passes the draw number along
        cond, target = self.raw_pair(index)
        if self.augment:
            rng = item_rng(self.seed, draw, index)
            cond, target = paired_augment([cond, target], self.load_px, self.crop_px, rng)
        return {
            "cond": torch.from_numpy(np.ascontiguousarray(cond)),
            "target": torch.from_numpy(np.ascontiguousarray(target)),
            **self.labels(index),
        }
