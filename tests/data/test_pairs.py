"""Spatial splits, packing real GeoTIFF tile pairs, and the training Dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine

from areograph.data.augment import ItemKey
from areograph.data.elevation import scale_elevation
from areograph.data.pairs import PairDataset, assign_splits, pack_pairs, training_elevations

PX, GSD = 16, 200.0
CRS = "EPSG:32611"


def _write(path: Path, data: np.ndarray, row: int, col: int, crs: str = CRS, shift_m: float = 0.0) -> None:
    """One tile GeoTIFF (bands first) placed on a regular grid: row 0 is the north edge."""
    west, north = 300_000 + col * PX * GSD + shift_m, 4_200_000 - row * PX * GSD
    transform = Affine(GSD, 0.0, west, 0.0, -GSD, north)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[1],
        width=data.shape[2],
        count=data.shape[0],
        dtype=data.dtype,
        crs=crs,
        transform=transform,
    ) as dst:
        dst.write(data)


def _region(tmp: Path, name: str, rows: int, cols: int, seed: int = 0) -> tuple[Path, Path]:
    """Elevation + imagery tile folders whose red channel encodes the elevation exactly (v = elev / 20)."""
    rng = np.random.default_rng(seed)
    elev_dir, img_dir = tmp / name / "elevation", tmp / name / "imagery"
    elev_dir.mkdir(parents=True)
    img_dir.mkdir(parents=True)
    for r in range(rows):
        for c in range(cols):
            tile_id = f"{name}_r{r:02d}_c{c:02d}"
            v = rng.integers(0, 226, size=(PX, PX)).astype(np.uint8)
            _write(elev_dir / f"{tile_id}.tif", (v.astype(np.float32) * 20.0)[None], r, c)
            rgb = np.stack([v, 255 - v, np.full_like(v, 7)])
            _write(img_dir / f"{tile_id}.tif", rgb, r, c)
    return elev_dir, img_dir


# ---- assign_splits -------------------------------------------------------------------------------


def test_blocks_never_mix_labels_and_give_both_labels() -> None:
    rows, cols = np.divmod(np.arange(36), 6)
    labels = assign_splits(rows.tolist(), cols.tolist(), "blocks", block_tiles=2, val_every=3)
    by_block: dict[tuple[int, int], set[str]] = {}
    for r, c, lab in zip(rows, cols, labels, strict=True):
        by_block.setdefault((r // 2, c // 2), set()).add(lab)
    assert all(len(s) == 1 for s in by_block.values())
    assert {"train", "val"} == set(labels)
    assert sum(s == {"val"} for s in by_block.values()) == 3  # blocks 3, 6, 9 of 9


def test_block_labels_do_not_depend_on_tile_order() -> None:
    rows, cols = np.divmod(np.arange(24), 4)
    labels = dict(zip(zip(rows, cols, strict=True), assign_splits(rows, cols, "blocks", 1, 4), strict=True))
    perm = np.random.default_rng(0).permutation(24)
    shuffled = assign_splits(rows[perm], cols[perm], "blocks", 1, 4)
    assert shuffled == [labels[(rows[i], cols[i])] for i in perm]


def test_whole_region_splits_and_bad_split() -> None:
    assert assign_splits([0, 1], [0, 0], "val") == ["val", "val"]
    assert assign_splits([0, 1], [0, 0], "train") == ["train", "train"]
    with pytest.raises(ValueError, match="unknown split 'render'"):
        assign_splits([0], [0], "render")


# ---- pack_pairs ----------------------------------------------------------------------------------


def test_pack_pairs_writes_aligned_arrays_and_a_summary(tmp_path: Path) -> None:
    e1, i1 = _region(tmp_path, "sierra", rows=4, cols=2)
    e2, i2 = _region(tmp_path, "alps", rows=1, cols=2, seed=1)
    (i1 / "sierra_r03_c01.tif").unlink()  # elevation without imagery: reported, not packed
    regions = [
        {"name": "sierra", "split": "blocks", "block_tiles": 1, "val_every": 4},
        {"name": "alps", "split": "val"},
    ]
    out = tmp_path / "packed" / "pairs.npz"
    summary = pack_pairs(regions, [e1, e2], [i1, i2], out)

    assert summary["n_pairs"] == 9
    assert summary["unpaired"]["sierra"]["elevation_only"] == ["sierra_r03_c01"]
    assert summary["regions"] == {"sierra": {"train": 6, "val": 1}, "alps": {"train": 0, "val": 2}}
    assert summary["splits"] == {"train": 6, "val": 3}
    json.dumps(summary)  # saved as JSON by the caller
    assert [p.name for p in out.parent.iterdir()] == ["pairs.npz"]  # no temporary left behind
    with np.load(out) as z:
        assert z["elevation"].dtype == np.float32 and z["elevation"].shape == (9, PX, PX)
        assert z["imagery"].dtype == np.uint8 and z["imagery"].shape == (9, PX, PX, 3)
        np.testing.assert_array_equal(z["elevation"], z["imagery"][..., 0] * 20.0)  # pairs stay paired
        i = list(z["tile_id"]).index("sierra_r01_c01")
        assert (z["row"][i], z["col"][i], z["region"][i], z["split"][i]) == (1, 1, "sierra", "val")
        with rasterio.open(e1 / "sierra_r01_c01.tif") as src:
            np.testing.assert_array_equal(z["elevation"][i], src.read(1))


def test_index_geojson_drops_tiles_not_kept(tmp_path: Path) -> None:
    e, i = _region(tmp_path, "sierra", rows=1, cols=3)
    features = [
        {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "tile_id": f"sierra_r00_c{c:02d}",
                "region": "sierra",
                "planet": "earth",
                "row": 0,
                "col": c,
                "nodata_fraction": 0.0,
                "kept": c != 1,
            },
        }
        for c in range(3)
    ]
    (e / "index.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    summary = pack_pairs([{"name": "sierra", "split": "train"}], [e], [i], tmp_path / "p.npz")
    assert summary["n_pairs"] == 2
    assert summary["unpaired"]["sierra"]["not_kept_in_index"] == ["sierra_r00_c01"]


def test_georeferencing_mismatch_names_both_files_and_writes_nothing(tmp_path: Path) -> None:
    e, i = _region(tmp_path, "sierra", rows=2, cols=2)
    bad = i / "sierra_r01_c00.tif"
    with rasterio.open(bad) as src:
        data = src.read()
    _write(bad, data, 1, 0, shift_m=3 * GSD)  # imagery three pixels east of its elevation
    out = tmp_path / "pairs.npz"
    with pytest.raises(ValueError, match="georeferencing mismatch") as err:
        pack_pairs([{"name": "sierra", "split": "train"}], [e], [i], out)
    assert str(e / "sierra_r01_c00.tif") in str(err.value) and str(bad) in str(err.value)
    assert list(tmp_path.glob("*.npz")) == [] and not list(tmp_path.glob(".pairs*"))


def test_crs_and_shape_mismatches_are_errors(tmp_path: Path) -> None:
    e, i = _region(tmp_path, "sierra", rows=1, cols=2)
    with rasterio.open(i / "sierra_r00_c01.tif") as src:
        data = src.read()
    _write(i / "sierra_r00_c01.tif", data, 0, 1, crs="EPSG:32610")
    with pytest.raises(ValueError, match="georeferencing mismatch"):
        pack_pairs([{"name": "sierra", "split": "train"}], [e], [i], tmp_path / "p.npz")
    _write(i / "sierra_r00_c01.tif", data[:, :8], 0, 1)
    with pytest.raises(ValueError, match=r"tile shape mismatch: .*sierra_r00_c01.tif is 16x16 px"):
        pack_pairs([{"name": "sierra", "split": "train"}], [e], [i], tmp_path / "p.npz")


def test_nodata_in_elevation_is_an_error(tmp_path: Path) -> None:
    e, i = _region(tmp_path, "sierra", rows=1, cols=1)
    elev = np.full((1, PX, PX), 100.0, dtype=np.float32)
    elev[0, 3, 3] = np.nan
    _write(e / "sierra_r00_c00.tif", elev, 0, 0)
    with pytest.raises(ValueError, match=r"sierra_r00_c00.tif: 1 nodata"):
        pack_pairs([{"name": "sierra", "split": "train"}], [e], [i], tmp_path / "p.npz")


# ---- PairDataset ---------------------------------------------------------------------------------


@pytest.fixture()
def packed(tmp_path: Path) -> Path:
    e, i = _region(tmp_path, "sierra", rows=2, cols=4)
    out = tmp_path / "pairs.npz"
    pack_pairs([{"name": "sierra", "split": "blocks", "block_tiles": 1, "val_every": 4}], [e], [i], out)
    return out


def test_validation_items_are_the_tiles_as_they_are(packed: Path) -> None:
    ds = PairDataset(packed, "val", (0.0, 4500.0), augment=False)
    assert len(ds) == 2
    with np.load(packed) as z:
        k = list(z["tile_id"]).index(ds[0]["tile_id"])
        elev, rgb = z["elevation"][k], z["imagery"][k]
    item = ds[0]
    assert item["cond"].shape == (1, PX, PX) and item["target"].shape == (3, PX, PX)
    np.testing.assert_allclose(item["cond"][0].numpy(), scale_elevation(elev, 0.0, 4500.0))
    np.testing.assert_allclose(item["target"].numpy(), np.moveaxis(rgb, -1, 0) / 127.5 - 1.0, atol=1e-6)


def test_augmented_items_stay_aligned_and_in_range(packed: Path) -> None:
    ds = PairDataset(packed, "train", (0.0, 4500.0), load_px=PX + 3, augment=True, seed=1)
    assert len(ds) == 6
    seen = set()
    for draw in range(5):
        for idx in range(len(ds)):
            item = ds[ItemKey(idx, draw * len(ds) + idx)]
            cond, target = item["cond"].numpy()[0], item["target"].numpy()
            assert target.min() >= -1 and target.max() <= 1 and cond.min() >= -1 and cond.max() <= 1
            # both are affine in the same per-pixel value v: elev = 20 v, red = v
            v_from_cond = (cond + 1) / 2 * 4500.0 / 20.0
            v_from_target = (target[0] + 1) * 127.5
            np.testing.assert_allclose(v_from_cond, v_from_target, atol=1e-3)
            seen.add(target.tobytes())
    assert len(seen) > 6  # the same tile comes out differently across draws
    assert torch.equal(ds[ItemKey(2, 9)]["target"], ds[ItemKey(2, 9)]["target"])  # and alike for one draw


def test_missing_split_is_a_clear_error(packed: Path, tmp_path: Path) -> None:
    e, i = _region(tmp_path / "b", "alps", rows=1, cols=1)
    only_val = tmp_path / "v.npz"
    pack_pairs([{"name": "alps", "split": "val"}], [e], [i], only_val)
    with pytest.raises(ValueError, match="no tiles in split 'train'"):
        PairDataset(only_val, "train", (0.0, 4500.0))
    reference = training_elevations(packed, max_values=100)
    assert reference.shape == (100,) and reference.min() >= 0
