"""Issue 20: the whole-frame view (packing, dataset, global-branch U-Net, inference), the
colourfulness-matching loss, and the macro / scenery-sources evaluation with extra frame sets."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from areograph.data.augment import ItemKey
from areograph.data.colour import THUMB_PX, ColourPatchDataset, frame_thumbnail, pack_patches
from areograph.evaluation.colour import extra_frames, summary_table
from areograph.images.quality import QualityThresholds
from areograph.models.init import init_weights
from areograph.models.registry import build_model
from areograph.render.frames import colourise_l
from areograph.training.trainer import chroma_colourfulness, l1_colourfulness_loss

FRAMES = [  # (file, sol), real sample frames: two sols, so both splits get frames
    ("0025ML0001270060100813E01_DRCL.JPG", 25),
    ("0025ML0001270180100825E01_DRCL.JPG", 25),
    ("0066ML0002960250102468E01_DRCL.JPG", 66),
    ("0066MR0002930170103295E01_DRCL.JPG", 66),
]


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> tuple[Path, Path]:
    kept = tmp_path_factory.mktemp("kept")
    for name, _ in FRAMES:
        shutil.copy(sample_dir / "rovers" / "colour" / name, kept / name)
    lines = ["file,camera,sol,origin", *(f"{n},MSL,{s},sample" for n, s in FRAMES)]
    (kept / "MANIFEST.csv").write_text("\n".join(lines) + "\n")
    out = kept.parent / "patches.npz"
    pack_patches(kept, kept / "MANIFEST.csv", out, patch_px=32, stride_px=32, max_side_px=64,
                 val_sols=[66])  # fmt: skip
    return kept, out


def test_packed_thumbnails_and_two_channel_items_flip_together(packed: tuple[Path, Path]) -> None:
    _, path = packed
    with np.load(path) as z:
        thumbs, frame_index = z["frame_thumb"], z["frame_index"]
    assert thumbs.shape == (len(FRAMES), 1, THUMB_PX, THUMB_PX) and thumbs.dtype == np.float16
    assert len({t.tobytes() for t in thumbs}) == len(FRAMES)  # one view per frame, each its own
    plain = ColourPatchDataset(path, "train", seed=1)
    viewed = ColourPatchDataset(path, "train", seed=1, frame_view=True)
    flips = set()
    for draw in range(12):
        a, b = plain[ItemKey(0, draw)], viewed[ItemKey(0, draw)]
        assert b["cond"].shape == (2, 32, 32) and torch.equal(a["cond"][0], b["cond"][0])
        thumb = torch.from_numpy(thumbs[frame_index[0]].astype(np.float32))[None]
        view = F.interpolate(thumb, size=(32, 32), mode="bilinear", align_corners=False)[0, 0]
        flipped = not torch.allclose(b["cond"][1], view)
        assert torch.allclose(b["cond"][1], torch.flip(view, dims=(1,)) if flipped else view)  # flips with it
        flips.add(flipped)
    assert flips == {True, False}


def test_frame_thumbnail_is_an_area_mean() -> None:
    lightness = np.zeros((1, 8, 16), np.float32)
    lightness[:, :, 8:] = 1.0
    thumb = frame_thumbnail(lightness, 8)
    assert thumb.shape == (1, 8, 8) and np.allclose(thumb[0, :, :4], 0) and np.allclose(thumb[0, :, 4:], 1)
    with pytest.raises(ValueError, match=r"\(1, H, W\)"):
        frame_thumbnail(np.zeros((3, 8, 8), np.float32))


def test_global_unet_output_depends_on_the_frame_view() -> None:
    torch.manual_seed(0)
    model = init_weights(build_model("global_unet", ngf=8, depth=5)).eval()
    local = torch.rand(1, 1, 32, 32) * 2 - 1
    dark, bright = torch.full((1, 1, 32, 32), -0.8), torch.full((1, 1, 32, 32), 0.8)
    with torch.no_grad():
        a = model(torch.cat([local, dark], 1))
        b = model(torch.cat([local, bright], 1))
    assert a.shape == (1, 2, 32, 32) and not torch.allclose(a, b)  # same window, other frame: other colour
    assert sum(".mix." in k for k in model.state_dict()) == 2  # the fusion's weights stored once
    with pytest.raises(ValueError, match="2 channels"):
        build_model("global_unet", in_channels=1)
    with pytest.raises(ValueError, match=r"\(B, 2, H, W\)"):
        model(local)


class ViewMean(torch.nn.Module):
    """A stand-in global model: every pixel's a and b are the mean of its frame-view channel."""

    frame_view_px = 16

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == 2
        return (self.scale * x[:, 1:].mean(dim=(2, 3), keepdim=True)).expand(-1, 2, *x.shape[2:]) * 0.5


def test_colourise_l_gives_a_global_model_the_whole_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    from areograph.render import frames

    monkeypatch.setattr(frames, "lab_scaled_to_rgb", lambda lightness, ab: ab)  # look at ab itself
    frame = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 40, 72)).astype(np.float32)
    other = frame.copy()
    other[:, :, 40:] = -1.0  # the right part darkened: the left windows see the same L, another frame
    for lightness in (frame, other):
        ab = colourise_l(ViewMean(), lightness, 32, None)
        # every window was given the whole frame's view: ab is half the frame's mean L everywhere
        assert np.allclose(ab, 0.5 * lightness.mean(), atol=0.01)
    assert abs(other.mean() - frame.mean()) > 0.2


def test_global_unet_runs_under_colourise_l() -> None:
    torch.manual_seed(0)
    model = init_weights(build_model("global_unet", ngf=8, depth=5)).eval()
    frame = np.random.default_rng(0).uniform(-1, 1, (1, 40, 72)).astype(np.float32)
    assert colourise_l(model, frame, 32, None).shape == (40, 72, 3)


def test_colourfulness_matching_loss() -> None:
    target = torch.rand(2, 2, 16, 16) * 0.6 - 0.3
    assert torch.allclose(l1_colourfulness_loss(target, target), torch.tensor(0.0), atol=1e-3)
    grey = torch.zeros_like(target)
    assert l1_colourfulness_loss(grey, target) > F.l1_loss(grey, target)  # a grey guess pays twice
    assert torch.allclose(chroma_colourfulness(2 * target), 2 * chroma_colourfulness(target), rtol=1e-3)
    pred = (0.5 * target).requires_grad_()
    l1_colourfulness_loss(pred, target).backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def _record(group: str, ciede: float, ratio: float = 1.0) -> dict:
    scores = {"ciede2000": ciede, "colourfulness_ratio": ratio, "psnr": 30.0, "ssim": 0.9}
    mean = {"ciede2000": 7.0, "colourfulness_ratio": 0.8, "psnr": 28.0, "ssim": 0.9}
    return {"group": group, "scores": {"model": scores, "mean_colour": mean}}


def test_macro_weighs_hardware_and_every_scenery_source_equally() -> None:
    records = [_record("hardware", 2.0)] * 9 + [_record("scenery", 8.0)] + [_record("sample", 6.0)] * 2
    table = summary_table(records, ["model", "mean_colour"], ["sample"])
    model = table["summary"]["model"]
    assert model["overall"]["ciede2000"] == pytest.approx((18 + 8 + 12) / 12)  # pooled: hardware wins
    assert model["scenery_sources"]["ciede2000"] == pytest.approx(7.0)  # (8 + 6) / 2, not by frame count
    assert model["macro"]["ciede2000"] == pytest.approx(4.5)  # (2 + 7) / 2
    assert model["macro"]["n_frames"] == 12
    change = table["ciede2000_change_vs_mean_colour_pct"]["model"]["macro"]
    assert change == pytest.approx(100 * (4.5 / 7 - 1))
    unlabelled = summary_table([_record("", 3.0)], ["model", "mean_colour"])
    assert set(unlabelled["summary"]["model"]) == {"overall"}


def test_extra_set_leaves_out_trained_frames_and_junk(packed: tuple[Path, Path], sample_dir: Path,
                                                       tmp_path: Path) -> None:  # fmt: skip
    _, path = packed
    names = ["0025ML0001270060100813E01_DRCL.JPG",  # a training frame of the packed set: left out
             "0157ML0008550040104533E01_DRCL.JPG"]  # fmt: skip
    colour = sample_dir / "rovers" / "colour"
    rows = (colour / "MANIFEST.csv").read_text().splitlines()
    grey = next(r.split(",")[0] for r in rows if "(greyscale)" in r)
    for name in [*names, grey]:
        shutil.copy(colour / name, tmp_path / name)
    (tmp_path / "MANIFEST.csv").write_text("file,sol\n" + "".join(f"{n},1\n" for n in [*names, grey]))
    frames = extra_frames("other", tmp_path, path, QualityThresholds())
    assert [f.name for f in frames] == [names[1]] and frames[0].group == "other"
    assert max(frames[0].rgb.shape[:2]) <= 64  # at the packed frames' scale
    (tmp_path / "MANIFEST.csv").write_text("file,sol\n" + f"{names[0]},1\n")
    with pytest.raises(ValueError, match="no frame left"):
        extra_frames("other", tmp_path, path, QualityThresholds())
