"""A packed set: one uncompressed ``.npz`` of training items, each labelled with its split.

Packing decodes tiles and frames once so that training reads plain arrays every step. Two sets exist:
``terrain_pairs.npz`` (data/pairs.py ``pack_pairs``: per tile ``elevation``, ``imagery``,
``lat_corners``, ``tile_id``, ``region``, ``row``, ``col``, ``split``) and ``colour_patches.npz``
(data/colour.py ``pack_patches``: per patch ``L``, ``ab``, ``frame_index``, ``split``, per frame
``frames``, ``frame_sol``, ``frame_split``, ``frame_class``, ``frame_group``, ``frame_thumb``
(a small whole-frame L view per frame, for global-branch colourisers), ...). Both carry a
per-item ``split`` column ("train" / "val"); :func:`read_split` is how a dataset takes one split.
The packers write through ``areograph.atomic`` (a layer above this one), so the writers stay there.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

TERRAIN_PAIRS = "terrain_pairs.npz"
COLOUR_PATCHES = "colour_patches.npz"
SPLIT_KEY = "split"


def _open(path: Path) -> np.lib.npyio.NpzFile:
    """The open ``.npz``; errors name the file (missing, not an npz, a single array)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: packed set not found")
    try:
        z = np.load(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        raise ValueError(f"{path}: not an .npz packed set ({exc})") from exc
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an .npz packed set (holds a single array)")
    return z


def _check_keys(path: Path, z: np.lib.npyio.NpzFile, keys: Sequence[str], optional: Collection[str]) -> None:
    missing = [k for k in keys if k not in z.files and k not in optional]
    if missing:
        raise ValueError(f"{path}: packed set lacks {missing} (has {sorted(z.files)})")


def read_packed(
    path: Path | str, keys: Sequence[str], optional: Collection[str] = ()
) -> dict[str, np.ndarray]:
    """Whole arrays of a packed set (scalars, per-frame tables, training statistics), in one opening.

    A name in ``optional`` may be absent (older packs) and is then absent from the result.
    """
    path = Path(path)
    with _open(path) as z:
        _check_keys(path, z, keys, optional)
        return {k: z[k] for k in keys if k in z.files}


def read_split(
    path: Path | str,
    split: str,
    keys: Sequence[str],
    *,
    whole: Sequence[str] = (),
    optional: Collection[str] = (),
    what: str = "items",
) -> dict[str, np.ndarray]:
    """The arrays of one split of a packed set, read in one opening of the file.

    ``keys`` are per-item arrays, returned with only the items whose ``split`` is ``split``;
    ``whole`` are returned as stored (per-frame tables that items index into). A name in
    ``optional`` may be absent from the file (older packs) and is then absent from the result.
    Errors name the file: it is missing, it is not an ``.npz``, it lacks a key, or the split has no
    items (the message lists the splits it has, calling the items ``what``: "tiles", "patches").
    """
    path = Path(path)
    with _open(path) as z:
        _check_keys(path, z, (SPLIT_KEY, *keys, *whole), optional)
        labels = z[SPLIT_KEY]
        mask = labels == split
        if not np.any(mask):
            have = sorted(set(labels.tolist()))
            raise ValueError(f"{path}: no {what} in split {split!r} (has {have})")
        out = {k: z[k][mask] for k in keys if k in z.files}
        out |= {k: z[k] for k in whole if k in z.files}
    return out
