"""The rover steps on a few real sample frames: filter -> pack -> train (three modes) -> colourise."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from areograph.colourise import colourise_edrs, filter_colour_frames, pack_colour_patches, train_colour
from areograph.training.checkpoint import load_file

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FRAMES = [  # two sols -> one for training, one held out
    "0025ML0001270060100813E01_DRCL.JPG",
    "0025ML0001270180100825E01_DRCL.JPG",
    "0050MR0002290070102772E01_DRCL.JPG",
]
TINY = {"ngf": 4, "ndf": 4, "depth": None, "dropout": 0.5}
STEPS = {"steps": 2, "batch_size": 2, "checkpoint_every": 2, "seed": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("colour")
    raw = root / "raw"
    raw.mkdir()
    src = sample_dir / "rovers" / "colour"
    with open(src / "MANIFEST.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["file"] in FRAMES]
    for r in rows:
        shutil.copy2(src / r["file"], raw / r["file"])
    with open(raw / "MANIFEST.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    kept = root / "kept"
    filter_colour_frames(
        raw,
        kept,
        root / "report.csv",
        {"min_side_px": 64, "blur_threshold": 26, "blur_size_px": 256, "grey_tolerance": 4.0},
    )
    out = root / "patches.npz"
    pack_colour_patches(kept, out, {"patch_px": 32, "stride_px": 32, "max_side_px": 128, "val_sols": [50]})
    return kept, out


@pytest.mark.parametrize(
    ("kind", "adversarial", "terms"),
    [
        ("colouriser", True, {"g_gan", "d_real"}),
        ("colouriser", False, {"loss"}),
        ("classification", False, {"loss"}),
        ("baseline", False, {"loss"}),
    ],
)
def test_three_training_modes_share_the_trainer(packed, tmp_path: Path, kind, adversarial, terms) -> None:
    _, npz = packed
    loss = {"loss": "classification"} if kind == "classification" else {}
    model = train_colour(
        "colouriser" if loss else kind,
        npz,
        {**TINY, "adversarial": adversarial, **loss},
        {"width": 4},
        STEPS,
        tmp_path / kind,
    )
    header = (tmp_path / kind / "losses.csv").read_text().splitlines()[0].split(",")
    assert terms <= set(header)
    ckpt = load_file(tmp_path / kind / "checkpoints" / "latest.pt")
    if adversarial:  # pix2pix in colourisation mode: the PatchGAN sees L + ab
        assert ckpt["discriminator"]["spec"]["kwargs"]["in_channels"] == 3
    else:
        assert "discriminator" not in ckpt
    saved = load_file(model)
    assert saved["extra_meta"]["task"] == "colourise"
    if kind == "classification":  # bins estimated from the training histogram, rebalancing weights beside
        kwargs = saved["generator"]["spec"]["kwargs"]
        assert saved["generator"]["spec"]["name"] == "ab_bins_unet"
        assert len(kwargs["centres"]) == len(kwargs["weights"]) > 3


def test_colourised_edr_keeps_its_own_lightness(packed, tmp_path: Path, sample_dir: Path) -> None:
    _, npz = packed
    model = train_colour("colouriser", npz, {**TINY, "adversarial": False}, {}, STEPS, tmp_path / "m")
    edrs = tmp_path / "edrs"
    edrs.mkdir()
    for f in sorted((sample_dir / "rovers" / "opportunity").glob("*.IMG"))[:2]:
        shutil.copy2(f, edrs / f.name)
    pngs = colourise_edrs(edrs, model, 64, 32, tmp_path / "frames", window_override=True)
    assert len(pngs) == 2
    rgb = np.asarray(Image.open(pngs[0]))
    assert rgb.shape == (1024, 1024, 3)
    rows = list(csv.DictReader(open(tmp_path / "frames" / "frames.csv")))  # noqa: SIM115
    assert rows[0]["caption"].startswith("Opportunity Front HazCam Left | sol ")
