"""The packed-set contract and the one dataset base: reading a split, and items bit for bit as before.

The expected items are computed here with the recipe spelled out (raw pair from the file, then
``paired_augment`` with ``item_rng(seed, draw, index)``), so moving the recipe into
``PackedSplitDataset`` cannot have changed a single crop, flip or value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tests.data.test_pairs import _region

from areograph.artefacts.packed import COLOUR_PATCHES, TERRAIN_PAIRS, read_packed, read_split
from areograph.data.augment import ItemKey, item_rng, paired_augment
from areograph.data.colour import ColourPatchDataset, class_sampling_weights, pack_patches
from areograph.data.conditioning import conditioning_stack, latitudes_from_corners
from areograph.data.dataset import PackedSplitDataset
from areograph.data.elevation import scale_elevation
from areograph.data.pairs import PairDataset, pack_pairs

RANGE = (0.0, 4500.0)
KEYS = [0, 3, ItemKey(0, 0), ItemKey(0, 7), ItemKey(2, 5), ItemKey(5, 11), ItemKey(1, 40)]


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("pairs")
    e, i = _region(tmp, "sierra", rows=2, cols=4)
    out = tmp / TERRAIN_PAIRS
    pack_pairs([{"name": "sierra", "split": "blocks", "block_tiles": 1, "val_every": 4}], [e], [i], out)
    return out


@pytest.fixture(scope="module")
def patches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic frames of three sols, two class groups; sol 3 is validation."""
    kept = tmp_path_factory.mktemp("kept")
    rng = np.random.default_rng(4)
    rows = ["file,sol,class_name,class_group"]
    frames = [(1, "sand", "ground"), (1, "wheel", "rover"), (2, "rock", "ground"), (3, "sand", "ground"),
              (3, "mast", "rover")]  # fmt: skip
    for k, (sol, cls, group) in enumerate(frames):
        name = f"f{k}.png"
        Image.fromarray(rng.integers(0, 256, size=(40, 56, 3), dtype=np.uint8)).save(kept / name)
        rows.append(f"{name},{sol},{cls},{group}")
    (kept / "MANIFEST.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path_factory.mktemp("packed") / COLOUR_PATCHES
    pack_patches(kept, kept / "MANIFEST.csv", out, patch_px=16, stride_px=12, max_side_px=56, val_sols=[3])
    return out


def _expected(cond: np.ndarray, target: np.ndarray, key: int, seed: int, load_px: int, crop_px: int):
    index, draw = int(key), getattr(key, "draw", None)
    return paired_augment([cond, target], load_px, crop_px, item_rng(seed, draw, index))


def _same(item: dict, cond: np.ndarray, target: np.ndarray) -> None:
    assert item["cond"].dtype == item["target"].dtype == torch.float32
    assert torch.equal(item["cond"], torch.from_numpy(np.ascontiguousarray(cond)))
    assert torch.equal(item["target"], torch.from_numpy(np.ascontiguousarray(target)))


@pytest.mark.parametrize("conditioning", [("elevation",), ("elevation", "latitude")])
def test_pair_items_are_bit_identical_to_the_recipe(pairs: Path, conditioning: tuple[str, ...]) -> None:
    ds = PairDataset(pairs, "train", RANGE, load_px=19, augment=True, seed=3, conditioning=conditioning)
    assert isinstance(ds, PackedSplitDataset)
    with np.load(pairs) as z:
        mask = z["split"] == "train"
        elevation, imagery, corners = z["elevation"][mask], z["imagery"][mask], z["lat_corners"][mask]
        tile_ids, regions = z["tile_id"][mask].tolist(), z["region"][mask].tolist()
    assert (len(ds), ds.tile_ids, ds.regions, ds.tile_px, ds.load_px) == (6, tile_ids, regions, 16, 19)
    assert (ds.augment, ds.seed, ds.packed, ds.conditioning) == (True, 3, pairs, conditioning)
    assert np.array_equal(ds.imagery, imagery)
    plain = PairDataset(pairs, "train", RANGE, augment=False, conditioning=conditioning)
    for key in KEYS:
        k = int(key)
        lat = latitudes_from_corners(corners[k], 16, 16)
        cond = conditioning_stack(scale_elevation(elevation[k], *RANGE), lat, conditioning)
        target = np.moveaxis(imagery[k], -1, 0).astype(np.float32) / 127.5 - 1.0
        item = ds[key]
        assert list(item) == ["cond", "target", "tile_id"] and item["tile_id"] == tile_ids[k]
        _same(item, *_expected(cond, target, key, 3, 19, 16))
        _same(plain[key], cond, target)  # no augmentation: the tile as stored


def test_patch_items_and_weights_are_bit_identical_to_the_recipe(patches: Path) -> None:
    sampling = {"group_share": {"ground": 0.5, "rover": 0.5}, "class_weights": {"sand": 2.0}}
    ds = ColourPatchDataset(patches, "train", seed=5, sampling=sampling)
    with np.load(patches) as z:
        mask = z["split"] == "train"
        lightness, ab, frame_index = z["L"][mask], z["ab"][mask], z["frame_index"][mask]
        names = [str(z["frames"][i]) for i in frame_index]
        weights = class_sampling_weights(z["frame_class"][frame_index].tolist(),
                                         z["frame_group"][frame_index].tolist(), sampling)  # fmt: skip
    assert (len(ds), ds.frame_names, ds.patch_px, ds.augment, ds.seed) == (len(names), names, 16, True, 5)
    assert np.array_equal(ds.lightness, lightness) and np.array_equal(ds.ab, ab)
    assert ds.sample_weights is not None and np.array_equal(ds.sample_weights, weights)
    assert not ColourPatchDataset(patches, "val").augment  # augmentation defaults to train only
    for key in KEYS:
        k = int(key)
        cond, target = lightness[k].astype(np.float32), ab[k].astype(np.float32)
        item = ds[key]
        assert list(item) == ["cond", "target", "frame"] and item["frame"] == names[k]
        _same(item, *_expected(cond, target, key, 5, 16, 16))
    assert ColourPatchDataset(patches, "train").sample_weights is None  # no sampling: uniform


def test_a_bad_split_is_a_named_error(pairs: Path, patches: Path) -> None:
    has = r"\(has \['train', 'val'\]\)"
    with pytest.raises(ValueError, match=rf"{TERRAIN_PAIRS}: no tiles in split 'test' {has}"):
        PairDataset(pairs, "test", RANGE)
    with pytest.raises(ValueError, match=rf"{COLOUR_PATCHES}: no patches in split 'tr' {has}"):
        ColourPatchDataset(patches, "tr")
    with pytest.raises(ValueError, match="load_px 12 is smaller than the tile size 16"):
        PairDataset(pairs, "train", RANGE, load_px=12)


def test_read_split_returns_one_split_and_names_the_file(pairs: Path, tmp_path: Path) -> None:
    got = read_split(pairs, "val", ["tile_id", "nothing"], whole=["row"], optional=["nothing"], what="tiles")
    with np.load(pairs) as z:
        assert got["tile_id"].tolist() == z["tile_id"][z["split"] == "val"].tolist()
        assert np.array_equal(got["row"], z["row"])  # whole: as stored, not masked
    assert set(got) == {"tile_id", "row"}  # an optional key the file lacks is left out
    with pytest.raises(ValueError, match=r"terrain_pairs.npz: packed set lacks \['nothing'\]"):
        read_split(pairs, "val", ["nothing"])
    with pytest.raises(FileNotFoundError, match=r"absent\.npz: packed set not found"):
        read_split(tmp_path / "absent.npz", "train", ["L"])
    text = tmp_path / "text.npz"
    text.write_text("not numpy\n")
    with pytest.raises(ValueError, match=r"text.npz: not an .npz packed set"):
        read_split(text, "train", ["L"])
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(ValueError, match=r"single.npz: not an .npz packed set \(holds a single array\)"):
        read_split(single, "train", ["L"])


def test_read_packed_reads_whole_arrays_and_names_a_missing_key(patches: Path) -> None:
    z = read_packed(patches, ("patch_px", "frames", "no_such"), optional={"no_such"})
    assert int(z["patch_px"]) == 16 and "no_such" not in z and len(z["frames"]) > 0
    with pytest.raises(ValueError, match=rf"{COLOUR_PATCHES}: packed set lacks \['no_such'\]"):
        read_packed(patches, ("patch_px", "no_such"))
