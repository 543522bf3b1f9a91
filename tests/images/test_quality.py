"""Quality filter on the real colour sample and on broken, duplicate and resized copies of it."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from PIL import Image

from areograph.images.quality import QualityThresholds, blur_score, check_image, filter_collection
from areograph.sources import get_source

GREYSCALE = {"0013ML0000120010100170D01_DRCL.JPG", "0013ML0000120020100171D01_DRCL.JPG"}
BLURRED = {"0003ML0000000110100031I01_DRCL.JPG", "0003ML0000000120100032I01_DRCL.JPG"}
SHARP = "0003ML0000000810100101E01_DRCL.JPG"
LARGE = "ZL0_0053_0671642352_402ECM_N0032046ZCAM05025_110085J01.jpg"


@pytest.fixture(scope="module")
def colour_dir(sample_dir: Path) -> Path:
    return sample_dir / "rovers" / "colour"


def _report(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


def test_sample_drops_exactly_the_greyscale_and_blurred_frames(tmp_path: Path, sample_dir: Path) -> None:
    fetched = get_source("sample", data_root=sample_dir).fetch_collection("rover_colour", tmp_path / "raw")
    kept = filter_collection(fetched, tmp_path / "kept", tmp_path / "report.csv", QualityThresholds())
    report = _report(tmp_path / "report.csv")
    assert len(report) == 53  # one row per input
    dropped = {name for name, row in report.items() if row["kept"] == "0"}
    assert dropped == GREYSCALE | BLURRED
    assert all(report[n]["reason"].startswith("greyscale") for n in GREYSCALE)
    assert all(report[n]["reason"].startswith("blurred") for n in BLURRED)
    assert all(
        row["laplacian_var"] and row["grey_diff"] and len(row["sha256"]) == 64 for row in report.values()
    )
    assert sorted(p.name for p in kept) == sorted(set(report) - dropped)
    assert all(p.read_bytes() == (fetched / p.name).read_bytes() for p in kept)
    with open(tmp_path / "kept" / "MANIFEST.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["file"] for r in rows) == sorted(p.name for p in kept)
    assert {r["sol"] for r in rows if r["file"] == LARGE} == {"53"}


def test_broken_small_and_duplicate_files_are_rejected_with_reasons(tmp_path: Path, colour_dir: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    data = (colour_dir / SHARP).read_bytes()
    (src / "a_good.jpg").write_bytes(data)
    (src / "b_copy.jpg").write_bytes(data)
    (src / "c_truncated.jpg").write_bytes(data[: len(data) // 2])
    (src / "d_empty.jpg").write_bytes(b"")
    (src / "e_text.jpg").write_text("not an image")
    with Image.open(colour_dir / SHARP) as img:
        img.resize((48, 48)).save(src / "f_small.png")
    (src / "MANIFEST.csv").write_text("file,sol\na_good.jpg,3\nb_copy.jpg,3\ng_missing.jpg,4\n")
    kept = filter_collection(src, tmp_path / "out", tmp_path / "report.csv", QualityThresholds())
    assert [p.name for p in kept] == ["a_good.jpg"]
    report = _report(tmp_path / "report.csv")
    assert report["b_copy.jpg"]["reason"] == "duplicate of a_good.jpg"
    assert report["c_truncated.jpg"]["reason"].startswith("unreadable")
    assert "truncated" in report["c_truncated.jpg"]["reason"]
    assert report["d_empty.jpg"]["reason"] == "empty file"
    assert report["e_text.jpg"]["reason"].startswith("unreadable")
    assert report["f_small.png"]["reason"].startswith("too small: 48x48")
    assert report["g_missing.jpg"]["reason"].startswith("missing")
    assert (tmp_path / "out" / "MANIFEST.csv").read_text().splitlines() == ["file,sol", "a_good.jpg,3"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["MANIFEST.csv", "a_good.jpg"]


def test_blur_score_does_not_depend_on_image_size(colour_dir: Path) -> None:
    with Image.open(colour_dir / LARGE) as img:
        full = img.convert("RGB")
    half = full.resize((full.width // 2, full.height // 2), Image.Resampling.LANCZOS)
    double = full.resize((full.width * 2, full.height * 2), Image.Resampling.LANCZOS)
    scores = [blur_score(im, 256) for im in (full, half, double)]
    assert max(scores) / min(scores) < 1.05
    # the un-normalised score would not be comparable: the same scene scores far lower when larger
    assert blur_score(full, 1648) < 0.6 * blur_score(half, 824)


def test_thresholds_are_configurable(colour_dir: Path) -> None:
    blurred = next(iter(sorted(BLURRED)))
    assert check_image(colour_dir / blurred, QualityThresholds()).reasons
    assert check_image(colour_dir / blurred, QualityThresholds(blur_threshold=10)).kept
    assert "too small" in check_image(colour_dir / SHARP, QualityThresholds(min_side_px=300)).reasons[0]
    with pytest.raises(ValueError):
        QualityThresholds(min_side_px=0)


def test_failed_filter_leaves_no_output(tmp_path: Path, colour_dir: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(colour_dir / SHARP, src / SHARP)
    (src / "MANIFEST.csv").write_text("name,sol\nx,1\n")  # first column must be 'file'
    with pytest.raises(ValueError, match=r"MANIFEST\.csv"):
        filter_collection(src, tmp_path / "out", tmp_path / "report.csv", QualityThresholds())
    assert not (tmp_path / "out").exists() and not (tmp_path / "report.csv").exists()
