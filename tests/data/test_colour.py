"""LAB patch packing from real colour frames: split by sol, patch grid, dataset items, held-out frames."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from areograph.data.augment import ItemKey
from areograph.data.colour import ColourPatchDataset, heldout_frames, pack_patches, split_by_sol
from areograph.images.lab import lab_scaled_to_rgb

# (file, sol): several frames share a sol, so a per-frame split would separate them
FRAMES = [
    ("0025ML0001270060100813E01_DRCL.JPG", 25),  # 256 x 256
    ("0025ML0001270180100825E01_DRCL.JPG", 25),
    ("0025ML0001210210100764E01_DRCL.JPG", 25),  # 256 x 127
    ("0078MR0005760450103880E01_DRCL.JPG", 78),
    ("cr_078_0078MR0576046000E1_DXXX_hf.jpg", 78),  # 560 x 500
    ("0066ML0002960250102468E01_DRCL.JPG", 66),
    ("0066MR0002930170103295E01_DRCL.JPG", 66),
    ("0157ML0008550040104533E01_DRCL.JPG", 157),
    ("0157MR0008550010201323E01_DRCL.JPG", 157),
    ("0050MR0002290070102772E01_DRCL.JPG", 50),
]


@pytest.fixture(scope="module")
def kept_dir(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("kept")
    for name, _ in FRAMES:
        shutil.copy(sample_dir / "rovers" / "colour" / name, out / name)
    lines = ["file,camera,sol,origin", *(f"{n},MSL,{s},sample" for n, s in FRAMES)]
    (out / "MANIFEST.csv").write_text("\n".join(lines) + "\n")
    return out


@pytest.fixture(scope="module")
def packed(kept_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("packed") / "patches.npz"
    summary = pack_patches(kept_dir, kept_dir / "MANIFEST.csv", out, patch_px=32, stride_px=32,
                           max_side_px=128, val_fraction=0.3, seed=0)  # fmt: skip
    return out, summary


def test_split_is_by_sol_never_by_patch(packed: tuple[Path, dict]) -> None:
    path, summary = packed
    with np.load(path) as z:
        frame_split, frame_sol, frame_index, split = (
            z["frame_split"],
            z["frame_sol"],
            z["frame_index"],
            z["split"],
        )
    assert set(split) == {"train", "val"}
    np.testing.assert_array_equal(split, frame_split[frame_index])  # every patch inherits its frame's split
    for sol in set(frame_sol.tolist()):
        assert len(set(frame_split[frame_sol == sol].tolist())) == 1, f"sol {sol} is in both splits"
    assert summary["val_sols"] == sorted(set(frame_sol[frame_split == "val"].tolist()))
    assert summary["frames"]["val"] >= 0.3 * len(FRAMES)


def test_patch_grid_arrays_and_counts(packed: tuple[Path, dict], kept_dir: Path) -> None:
    path, summary = packed
    with np.load(path) as z:
        lightness, ab, names, per_frame = z["L"], z["ab"], z["frames"], z["frame_patches"]
        assert (int(z["patch_px"]), int(z["max_side_px"])) == (32, 128)
        train_mean = z["train_ab_mean"]
    assert lightness.shape[1:] == (1, 32, 32) and ab.shape[1:] == (2, 32, 32)
    assert lightness.dtype == np.float16 and ab.dtype == np.float16
    assert lightness.min() >= -1 and lightness.max() <= 1 and np.abs(ab).max() <= 1
    counts = dict(zip(names.tolist(), per_frame.tolist(), strict=True))
    assert counts["0025ML0001270060100813E01_DRCL.JPG"] == 16  # 256 -> 128 px: 4 x 4 patches
    assert counts["0025ML0001210210100764E01_DRCL.JPG"] == 8  # 256 x 127 -> 128 x 64: 2 x 4
    assert counts["cr_078_0078MR0576046000E1_DXXX_hf.jpg"] == 16  # 128 x 114: 4 x 4
    assert sum(summary["patches"].values()) == len(lightness) == sum(counts.values())
    # Mars is red-yellow: the mean training colour has positive a and b
    assert train_mean[0] > 0.05 and train_mean[1] > 0.2
    # a patch converts back to the colours of its source frame
    first = heldout_frames(kept_dir, path, "train")[0]
    i = names.tolist().index(first.name)
    with np.load(path) as z:
        k = int(np.flatnonzero(z["frame_index"] == i)[0])
    rgb = lab_scaled_to_rgb(lightness[k].astype(np.float32), ab[k].astype(np.float32))
    assert np.abs(rgb - first.rgb[:32, :32]).max() < 0.02


def test_dataset_items_and_train_flips(packed: tuple[Path, dict]) -> None:
    path, summary = packed
    train = ColourPatchDataset(path, "train", seed=1)
    val = ColourPatchDataset(path, "val")
    assert (len(train), len(val)) == (summary["patches"]["train"], summary["patches"]["val"])
    item = val[0]
    assert item["cond"].shape == (1, 32, 32) and item["target"].shape == (2, 32, 32)
    assert item["cond"].dtype == item["target"].dtype == torch.float32
    assert torch.equal(item["cond"], torch.from_numpy(val.lightness[0].astype(np.float32)))  # val: as stored
    stored = torch.from_numpy(train.lightness[0].astype(np.float32))
    flips = []
    for draw in range(20):
        got = train[ItemKey(0, draw)]
        flipped = torch.equal(got["cond"], torch.flip(stored, dims=(2,)))
        assert flipped or torch.equal(got["cond"], stored)
        target = torch.from_numpy(train.ab[0].astype(np.float32))
        assert torch.equal(got["target"], torch.flip(target, dims=(2,)) if flipped else target)  # together
        flips.append(flipped)
    assert any(flips) and not all(flips)
    assert torch.equal(train[ItemKey(0, 7)]["cond"], train[ItemKey(0, 7)]["cond"])  # one draw, one flip
    with pytest.raises(ValueError, match="no patches in split 'test'"):
        ColourPatchDataset(path, "test")


def test_heldout_frames_are_the_val_frames_at_training_scale(
    packed: tuple[Path, dict], kept_dir: Path
) -> None:
    path, _ = packed
    frames = heldout_frames(kept_dir, path)
    with np.load(path) as z:
        expected = sorted(z["frames"][z["frame_split"] == "val"].tolist())
    assert sorted(f.name for f in frames) == expected
    assert all(max(f.rgb.shape[:2]) <= 128 and f.rgb.dtype == np.float32 for f in frames)
    assert all(f.rgb.min() >= 0 and f.rgb.max() <= 1 for f in frames)


def test_split_by_sol_rules() -> None:
    sols = [1, 1, 2, 3, 3, 3, 4, -1]
    labels = split_by_sol(sols, 0.0)
    assert labels == ["train"] * len(sols)
    labels = split_by_sol(sols, 0.0, val_sols=[3])
    assert [lab for s, lab in zip(sols, labels, strict=True) if lab == "val"] and all(
        (lab == "val") == (s == 3) for s, lab in zip(sols, labels, strict=True)
    )
    labels = split_by_sol(sols, 0.9, seed=3)
    assert "train" in labels  # one sol always trains
    with pytest.raises(ValueError, match="val_sols"):
        split_by_sol(sols, 0.2, val_sols=[99])


def test_missing_frame_is_an_error_and_writes_nothing(kept_dir: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "MANIFEST.csv"
    manifest.write_text("file,sol\nnot_there.jpg,5\n")
    with pytest.raises(FileNotFoundError, match=r"not_there\.jpg"):
        pack_patches(kept_dir, manifest, tmp_path / "p.npz")
    assert not (tmp_path / "p.npz").exists()
