"""The msl_surface adapter on the real labelled Curiosity set (../shared/corpora/msl-surface), then the
quality filter, the packer's manifest split and class groups, and the per-group evaluation on a subset."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from areograph.colourise import filter_colour_frames, pack_colour_patches, train_colour
from areograph.data.colour import ColourPatchDataset
from areograph.evaluation.colour import evaluate_colour
from areograph.images.quality import drop_counts
from areograph.ship import ship_colouriser
from areograph.sources import SourceError, get_source
from areograph.sources.msl_surface import MANIFEST_HEADER
from areograph.training.checkpoint import load_file, training_run_of

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "msl-surface"
pytestmark = [
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} not present"),
    pytest.mark.usefixtures("one_torch_thread"),
]

GREYSCALE = {"0003MR0000000110100003D01_DRCL.JPG", "0013ML0000140050100198D01_DRCL.JPG"}
BLURRED = {"0019ML0000540120100293I01_DRCL.JPG", "0233MH0000950000102740I01_DRCL.JPG"}
DUPLICATE = ("0180MH0001490020102536C00_DRCL.JPG", "0180MH0001490020102536C01_DRCL.JPG")


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("msl") / "raw"
    return get_source("msl_surface", {"root": str(CORPUS)}).fetch_collection("rover_colour", out)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_manifest_has_sol_split_and_class_per_file(fetched: Path) -> None:
    with open(fetched / "MANIFEST.csv", newline="") as fh:
        assert tuple(next(csv.reader(fh))) == MANIFEST_HEADER  # first column "file", like every collection
    rows = _rows(fetched / "MANIFEST.csv")
    assert len(rows) == 5386 == len(list(fetched.glob("*.JPG")))
    by_split = {s: [r for r in rows if r["split"] == s] for s in ("train", "val")}
    assert (len(by_split["train"]), len(by_split["val"])) == (3746, 1640)  # the authors' files
    train_sols = {int(r["sol"]) for r in by_split["train"]}
    val_sols = {int(r["sol"]) for r in by_split["val"]}
    assert (min(train_sols), max(train_sols)) == (3, 180) and (min(val_sols), max(val_sols)) == (182, 564)
    assert all(r["file"][:4] == f"{int(r['sol']):04d}" for r in rows)
    names = {int(r["class_id"]): r["class_name"] for r in rows}
    assert names[8] == "ground" and names[9] == "horizon" and names[24] == "wheel"
    assert names[20] == "rover rear deck" and names[14] == "mastcam cal target"
    groups = {r["class_name"]: r["class_group"] for r in rows}
    assert {c for c, g in groups.items() if g == "scenery"} == {"ground", "horizon"}  # no sun frames here
    assert sum(r["class_name"] == "ground" for r in by_split["train"]) == 2343
    assert {r["camera"] for r in rows} == {
        "MSL Mastcam-Left (M-34)",
        "MSL Mastcam-Right (M-100)",
        "MSL MAHLI",
    }


@pytest.fixture(scope="module")
def subset(fetched: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Known greyscale, blurred and duplicate frames plus every 80th frame, with their manifest rows."""
    rows = _rows(fetched / "MANIFEST.csv")
    keep = GREYSCALE | BLURRED | set(DUPLICATE) | {r["file"] for r in rows[::80]}
    out = tmp_path_factory.mktemp("subset") / "raw"
    out.mkdir()
    picked = [r for r in rows if r["file"] in keep]
    for r in picked:
        shutil.copy2(fetched / r["file"], out / r["file"])
    with open(out / "MANIFEST.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(MANIFEST_HEADER))
        writer.writeheader()
        writer.writerows(picked)
    return out


@pytest.fixture(scope="module")
def filtered(subset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """The subset through the quality filter once: its folder (kept frames, report.csv beside) and list."""
    root = tmp_path_factory.mktemp("filtered")
    return root, filter_colour_frames(subset, root / "kept", root / "report.csv", {})


def test_quality_filter_report_says_what_it_dropped(subset: Path, filtered: tuple[Path, list[Path]]) -> None:
    root, kept = filtered
    report = {r["file"]: r for r in _rows(root / "report.csv")}
    assert len(report) == len(list(subset.glob("*.JPG")))
    assert all(report[f]["reason"].startswith("greyscale") for f in GREYSCALE)
    assert all(report[f]["reason"].startswith("blurred") for f in BLURRED)
    assert report[DUPLICATE[1]]["reason"] == f"duplicate of {DUPLICATE[0]}"
    dropped = {f for f, r in report.items() if r["kept"] == "0"}
    assert GREYSCALE | BLURRED | {DUPLICATE[1]} <= dropped
    assert len(kept) == len(report) - len(dropped)
    kept_rows = _rows(root / "kept" / "MANIFEST.csv")  # the labels travel with the kept frames
    assert {r["file"] for r in kept_rows} == {p.name for p in kept}
    assert all(r["split"] in ("train", "val") and r["class_name"] for r in kept_rows)


def n_val_frames(split: list[str]) -> int:
    return sum(s == "val" for s in split)


def test_pack_uses_the_authors_split_and_classes_then_evaluates_per_group(
    filtered: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    kept = filtered[0] / "kept"
    packed = tmp_path / "p.npz"
    pack_colour_patches(
        kept, packed, {"patch_px": 64, "stride_px": 64, "max_side_px": 128, "split": "manifest"}
    )
    manifest = {r["file"]: r for r in _rows(kept / "MANIFEST.csv")}
    with np.load(packed) as z:
        frames, split, group = z["frames"].tolist(), z["frame_split"].tolist(), z["frame_group"].tolist()
        classes = z["frame_class"].tolist()
        assert z["train_ab_hist"].sum() > 0
    assert split == [manifest[f]["split"] for f in frames]
    assert group == [manifest[f]["class_group"] for f in frames]
    sampling = {"group_share": {"scenery": 0.3, "hardware": 0.7}}
    train = ColourPatchDataset(packed, "train", sampling=sampling)
    assert train.sample_weights is not None
    hardware = [manifest[f]["class_group"] == "hardware" for f in train.frame_names]
    assert train.sample_weights[hardware].sum() == pytest.approx(0.7)
    steps = {"steps": 2, "batch_size": 2, "checkpoint_every": 2, "device": "cpu"}
    cfg = {"ngf": 4, "dropout": 0.5, "loss": "classification"}
    model = train_colour("colouriser", packed, cfg, {}, steps, tmp_path / "m", sampling=sampling)
    glob = {"ngf": 4, "dropout": 0.5, "loss": "l1_colourfulness", "global_view": True}  # issue 20
    global_model = train_colour("colouriser", packed, glob, {}, steps, tmp_path / "g", sampling=sampling)
    models = {"colouriser": model, "global": global_model}
    # the offline sample's colour frames as another scenery source (those it shares with training left out)
    sample = {"sample": Path(__file__).parents[2] / "data" / "sample" / "rovers" / "colour"}
    metrics = evaluate_colour(kept, packed, models, None, 32, tmp_path / "m.json", tmp_path / "ex.png",
                              extra_sets=sample)  # fmt: skip
    saved = json.loads((tmp_path / "m.json").read_text())
    subsets = {"overall", "hardware", "scenery", "sample", "scenery_sources", "macro"}
    assert saved["summary"]["colouriser"].keys() == saved["summary"]["global"].keys() == subsets
    assert saved["best_by_macro"] in models
    card = ship_colouriser(global_model, tmp_path / "m.json", tmp_path / "s" / "model.pt",
                           tmp_path / "s" / "metrics.json", tmp_path / "s" / "MODEL_CARD.md",
                           {"adapter": "msl_surface"}, {"render": {"window_px": None, "overlap_px": None}},
                           tmp_path / "no.tsv", "global", packed)  # fmt: skip
    text = (tmp_path / "s" / "MODEL_CARD.md").read_text()
    assert card.is_file() and "| macro | **global** |" in text and "- hardware: CIEDE2000" in text
    per_class = saved["per_class"]  # every labelled class of the val split, with its group and frames
    assert sum(row["n_frames"] for row in per_class.values()) == n_val_frames(split)
    assert {row["group"] for row in per_class.values()} == {"hardware", "scenery"}
    name, row = next(iter(per_class.items()))
    ratio = row["global"] / row["mean_colour"]
    trained = sum(c == name and s == "train" for c, s in zip(classes, split, strict=True))
    assert f"| {name} | {row['group']} | {row['n_frames']} | {trained} | {row['global']:.2f} | " in text
    assert f"| {ratio:.2f}x |" in text
    run = training_run_of(load_file(global_model))  # the card's device line is the model file's record
    assert f"- **Device**: cpu, precision {run.precision}; wall time {run.wall_s:.0f} s" in text
    n_val = sum(s == "val" for s in split)
    assert saved["n_heldout_frames"] == n_val + metrics["groups"]["sample"] == len(saved["frames"])
    assert metrics["groups"]["sample"] > 0
    assert saved["summary"]["greyscale"]["overall"]["colourfulness_ratio_median"] == pytest.approx(
        0, abs=0.02
    )
    assert metrics["groups"]["hardware"] + metrics["groups"]["scenery"] == n_val
    assert (tmp_path / "ex.png").stat().st_size > 10_000


def test_drop_counts_name_each_check() -> None:
    from areograph.images.quality import QualityResult

    results = [
        QualityResult(
            "a", 1, reasons=["greyscale: channel spread 0.00 <= 4.0", "blurred: laplacian var 1 < 26"]
        ),
        QualityResult("b", 1, reasons=["duplicate of a"]),
        QualityResult("c", 1, reasons=["too small: 50x40 < 64 px"]),
        QualityResult("d", 1),
    ]
    assert drop_counts(results) == {"blurred": 1, "duplicate": 1, "greyscale": 1, "too small": 1}


def _fake_clone(root: Path, listed: str, class_id: int = 8) -> Path:
    (root / "calibrated").mkdir(parents=True)
    shutil.copy2(CORPUS / "msl_synset_words-indexed.txt", root)
    shutil.copy2(CORPUS / "calibrated" / "0003ML0000000110100031E01_DRCL.JPG", root / "calibrated")
    (root / "train-calibrated-shuffled.txt").write_text(f"calibrated/{listed} {class_id}\n")
    (root / "val-calibrated-shuffled.txt").write_text("")
    return root


def test_bad_clones_fail_naming_the_file_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(SourceError, match="folder not found"):
        get_source("msl_surface", {"root": str(tmp_path / "nope")}).fetch_collection("rover_colour", out)
    clone = _fake_clone(tmp_path / "a", "0099ML0000000000000000E01_DRCL.JPG")
    with pytest.raises(
        SourceError, match=r"train-calibrated-shuffled.txt:1: listed image .*0099ML.* is missing"
    ):
        get_source("msl_surface", {"root": str(clone)}).fetch_collection("rover_colour", out)
    clone = _fake_clone(tmp_path / "b", "0003ML0000000110100031E01_DRCL.JPG", class_id=99)
    with pytest.raises(SourceError, match="class id 99"):
        get_source("msl_surface", {"root": str(clone)}).fetch_collection("rover_colour", out)
    assert not out.exists()
    clone = _fake_clone(tmp_path / "c", "0003ML0000000110100031E01_DRCL.JPG")
    get_source("msl_surface", {"root": str(clone)}).fetch_collection("rover_colour", out)
    assert [r["sol"] for r in _rows(out / "MANIFEST.csv")] == ["3"]
