"""Colourisation training data: LAB patches from the kept colour frames, split by sol.

:func:`pack_patches` resizes every kept frame so its long side is at most ``max_side_px`` (the sample
has 1648 x 1200 frames beside 256 px ones; this keeps the dataset small and CPU training fast and
brings frames to a similar ground scale), converts it to scaled LAB once, and cuts ``patch_px``
squares every ``stride_px`` into one ``.npz``. The train/validation split is by sol: all frames of a
sol, and so all patches of a frame, fall on one side, because overlapping patches of one frame (or
frames of one scene) on both sides would measure memorisation, not colourisation.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from areograph.artefacts.collection import read_manifest
from areograph.artefacts.packed import read_packed
from areograph.atomic import atomic_path
from areograph.data.dataset import PackedSplitDataset
from areograph.images.lab import AB_SCALE, rgb_to_lab_scaled

logger = logging.getLogger("areograph.data")

NO_SOL = -1
# The ab grid of the training histogram: cells 10 CIELAB units wide (Zhang et al. 2016's grid size),
# centred on multiples of 10, over the scaled range [-1, 1] (|a|, |b| <= 64, see images/lab.py).
AB_EDGES = (np.arange(-6.5, 7.0) * 10.0 / AB_SCALE).clip(-1.0, 1.0)
AB_GRID = AB_EDGES.size - 1
# The whole-frame view a global-branch colouriser sees beside each patch (models/global_unet.py):
# the frame's L squeezed (area) to THUMB_PX x THUMB_PX, stored once per frame in the packed set.
THUMB_PX = 64


def frame_thumbnail(lightness: np.ndarray, size_px: int = THUMB_PX) -> np.ndarray:
    """(1, size, size) float32: a frame's scaled L (1, H, W) squeezed to a square by area averaging.

    The aspect ratio is not kept (as Iizuka et al. 2016 resize every image to 224 x 224): the view
    is for the frame's overall light and layout, which is what its overall tint depends on.
    """
    x = torch.from_numpy(np.ascontiguousarray(lightness, dtype=np.float32))[None]
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"frame_thumbnail needs L as (1, H, W), got {tuple(lightness.shape)}")
    return F.adaptive_avg_pool2d(x, size_px)[0].numpy()


def frame_view_channel(thumbnail: np.ndarray | torch.Tensor, size_px: int) -> torch.Tensor:
    """The thumbnail (1, T, T) resized (bilinear) to (1, size, size): the extra input channel of a
    window, so a patch and its frame's view travel as one (C, H, W) tensor through training,
    augmentation (a flip flips both) and window inference."""
    t = torch.as_tensor(thumbnail, dtype=torch.float32)[None]
    return F.interpolate(t, size=(size_px, size_px), mode="bilinear", align_corners=False)[0]


def load_frame(path: Path, max_side_px: int) -> np.ndarray:
    """An RGB frame as float32 (H, W, 3) in [0, 1], downscaled (Lanczos) to ``max_side_px`` long side.

    Frames already small enough are not resampled (upscaling adds no information).
    """
    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB")
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read colour frame: {exc}") from exc
    scale = max_side_px / max(rgb.size)
    if scale < 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(rgb, dtype=np.float32) / 255.0


def _offsets(length: int, patch_px: int, stride_px: int) -> list[int]:
    """Patch origins along one axis: every ``stride_px`` plus one flush with the far edge."""
    if length < patch_px:
        return []
    offsets = list(range(0, length - patch_px + 1, stride_px))
    if offsets[-1] != length - patch_px:
        offsets.append(length - patch_px)
    return offsets


@dataclass(frozen=True)
class ManifestFrame:
    """What packing needs from one manifest row: file, sol, the source's split and class (if any)."""

    name: str
    sol: int
    split: str = ""
    class_name: str = ""
    group: str = ""


def _manifest_frames(manifest: Path, kept_dir: Path) -> list[ManifestFrame]:
    """Every manifest row whose file exists; sol NO_SOL where absent or not a number.

    ``split``, ``class_name`` and ``class_group`` are read where the source provides them (the
    labelled MSL set does) and left empty otherwise.
    """
    _, rows = read_manifest(manifest)
    frames = []
    for row in rows:
        name = (row.get("file") or "").strip()
        if not name:
            raise ValueError(f"{manifest}: row without a file name: {row}")
        if not (kept_dir / name).is_file():
            raise FileNotFoundError(f"{manifest}: lists {name!r}, which is not in {kept_dir}")
        try:
            sol = int(str(row.get("sol", "")).strip())
        except ValueError:
            sol = NO_SOL
        extra = (str(row.get(k) or "").strip() for k in ("split", "class_name", "class_group"))
        frames.append(ManifestFrame(name, sol, *extra))
    if not frames:
        raise ValueError(f"{manifest}: no frames listed")
    return sorted(frames, key=lambda f: f.name)


def manifest_split(frames: Sequence[ManifestFrame], manifest: Path) -> list[str]:
    """The source's own train/val labels (``split: manifest``); every frame must carry one."""
    bad = [f.name for f in frames if f.split not in ("train", "val")]
    if bad:
        raise ValueError(f"{manifest}: split must be 'train' or 'val' for split: manifest; {bad[:3]} are not")
    labels = [f.split for f in frames]
    if "train" not in labels:
        raise ValueError(f"{manifest}: no training frames in the manifest's split column")
    return labels


def split_by_sol(
    sols: Sequence[int], val_fraction: float, seed: int = 0, val_sols: Sequence[int] | None = None
) -> list[str]:
    """Label frames "train"/"val" so that every sol lies wholly in one split.

    With ``val_sols`` those sols are validation. Otherwise sols are visited in a seeded random
    order and made validation until at least ``val_fraction`` of the frames are; at least one sol
    always stays in training. A frame without a sol (``NO_SOL``) is its own group, keyed by position.
    """
    keys = [f"sol{s}" if s != NO_SOL else f"frame{i}" for i, s in enumerate(sols)]
    groups = sorted(set(keys))
    if val_sols is not None:
        val = {f"sol{int(s)}" for s in val_sols}
        missing = val - set(groups)
        if missing:
            raise ValueError(f"val_sols {sorted(missing)} have no kept frames")
    else:
        if not 0 <= val_fraction < 1:
            raise ValueError(f"val_fraction must lie in [0, 1), got {val_fraction}")
        order = [groups[i] for i in np.random.default_rng(seed).permutation(len(groups))]
        val, n_val = set(), 0
        for group in order[:-1]:  # the last group always trains
            if n_val >= val_fraction * len(keys):
                break
            val.add(group)
            n_val += keys.count(group)
    labels = ["val" if k in val else "train" for k in keys]
    if "train" not in labels:
        raise ValueError("the validation sols take every frame; nothing is left to train on")
    return labels


def pack_patches(
    kept_dir: str | Path,
    manifest: str | Path,
    out_path: str | Path,
    patch_px: int = 64,
    stride_px: int = 64,
    max_side_px: int = 512,
    val_fraction: float = 0.2,
    seed: int = 0,
    val_sols: Sequence[int] | None = None,
    split: str = "sol",
) -> dict[str, Any]:
    """Cut scaled-LAB patches from the kept frames into one ``.npz`` (atomically); return a summary.

    Arrays: ``L`` (N,1,p,p) and ``ab`` (N,2,p,p) float16 in [-1, 1], ``frame_index`` (N,) and
    ``split`` (N,) per patch; ``frames``, ``frame_sol``, ``frame_split``, ``frame_patches`` per frame;
    ``train_ab_mean`` (2,) the mean scaled a, b over training-frame pixels (the "mean Mars colour"
    baseline); ``train_ab_hist`` (AB_GRID, AB_GRID) the training pixels' histogram on the ab grid
    of :data:`AB_EDGES` (what the classification loss's bins and prior are estimated from);
    ``frame_class`` and ``frame_group`` (empty where the manifest has none); ``frame_thumb``
    (F, 1, THUMB_PX, THUMB_PX) float16, each frame's whole-frame L view (:func:`frame_thumbnail`,
    what a global-branch colouriser sees beside each patch); and the scalars
    ``patch_px``, ``stride_px``, ``max_side_px``. ``split`` = "sol" splits by sol (``val_sols`` or a
    seeded ``val_fraction``); "manifest" takes the source's split column (the MSL set's authors').
    Frames smaller than a patch contribute no patch and are counted in the summary.
    """
    kept_dir, manifest, out_path = Path(kept_dir), Path(manifest), Path(out_path)
    if patch_px < 8 or stride_px < 1 or max_side_px < patch_px:
        raise ValueError(f"need patch_px >= 8, stride_px >= 1, max_side_px >= patch_px; got "
                         f"{patch_px}, {stride_px}, {max_side_px}")  # fmt: skip
    frames = _manifest_frames(manifest, kept_dir)
    if split not in ("sol", "manifest"):
        raise ValueError(f"split must be 'sol' or 'manifest', got {split!r}")
    if split == "manifest":
        labels = manifest_split(frames, manifest)
    else:
        labels = split_by_sol([f.sol for f in frames], val_fraction, seed, val_sols)
    l_parts, ab_parts, index, per_frame, thumbs = [], [], [], [], []
    ab_sum, n_px, ab_hist = np.zeros(2), 0, np.zeros((AB_GRID, AB_GRID))
    for i, (frame, label) in enumerate(zip(frames, labels, strict=True)):
        lightness, ab = rgb_to_lab_scaled(load_frame(kept_dir / frame.name, max_side_px))
        thumbs.append(frame_thumbnail(lightness).astype(np.float16))
        if label == "train":
            ab_sum += ab.reshape(2, -1).sum(axis=1)
            n_px += ab.shape[1] * ab.shape[2]
            ab_hist += np.histogram2d(ab[0].ravel(), ab[1].ravel(), bins=(AB_EDGES, AB_EDGES))[0]
        ys, xs = _offsets(ab.shape[1], patch_px, stride_px), _offsets(ab.shape[2], patch_px, stride_px)
        for y in ys:
            for x in xs:
                l_parts.append(lightness[:, y : y + patch_px, x : x + patch_px].astype(np.float16))
                ab_parts.append(ab[:, y : y + patch_px, x : x + patch_px].astype(np.float16))
                index.append(i)
        per_frame.append(len(ys) * len(xs))
    if not index:
        raise ValueError(f"{kept_dir}: no frame is at least {patch_px} px on its short side")
    frame_split = np.array(labels, dtype=str)
    patch_split = frame_split[np.array(index)]
    if n_px == 0 or not np.any(patch_split == "train"):
        raise ValueError(f"{kept_dir}: no training patches (all training frames smaller than {patch_px} px)")
    with atomic_path(out_path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            L=np.stack(l_parts),
            ab=np.stack(ab_parts),
            frame_index=np.array(index, dtype=np.int32),
            split=patch_split,
            frames=np.array([f.name for f in frames], dtype=str),
            frame_sol=np.array([f.sol for f in frames], dtype=np.int32),
            frame_class=np.array([f.class_name for f in frames], dtype=str),
            frame_thumb=np.stack(thumbs),
            frame_group=np.array([f.group for f in frames], dtype=str),
            train_ab_hist=ab_hist.astype(np.float64),
            frame_split=frame_split,
            frame_patches=np.array(per_frame, dtype=np.int32),
            train_ab_mean=(ab_sum / n_px).astype(np.float32),
            patch_px=np.int32(patch_px),
            stride_px=np.int32(stride_px),
            max_side_px=np.int32(max_side_px),
        )
    summary = {
        "frames": {s: int(np.count_nonzero(frame_split == s)) for s in ("train", "val")},
        "patches": {s: int(np.count_nonzero(patch_split == s)) for s in ("train", "val")},
        "frames_without_patches": [f.name for f, k in zip(frames, per_frame, strict=True) if k == 0],
        "val_sols": sorted({f.sol for f, lab in zip(frames, labels, strict=True) if lab == "val"}),
        "train_ab_mean": [round(float(v), 4) for v in ab_sum / n_px],
        "patch_px": patch_px,
        "stride_px": stride_px,
        "max_side_px": max_side_px,
    }
    logger.info("packed %s patches from %s frames into %s", summary["patches"], summary["frames"], out_path)
    return summary


def class_sampling_weights(
    classes: Sequence[str], groups: Sequence[str], sampling: Mapping[str, Any] | None
) -> np.ndarray | None:
    """Per-item draw probabilities from ``sampling`` (``group_share``, ``class_weights``), or None.

    A group's items share its ``group_share`` of the draws (shares are normalised over the groups
    present), split among them in proportion to their class's weight in ``class_weights`` (default 1).
    So the rover's hardware, a third of the MSL training frames, can be drawn as often as the ground.
    None (uniform, the trainer's shuffled epochs) when ``sampling`` is empty or the collection has no
    class labels; a labelled group without a share is an error.
    """
    if not sampling or not any(groups):
        return None
    share = dict(sampling.get("group_share") or {})
    class_weights = dict(sampling.get("class_weights") or {})
    present = sorted(set(groups))
    missing = [g for g in present if g not in share]
    if missing:
        raise ValueError(f"sampling.group_share has no share for class groups {missing} ({sorted(share)})")
    total_share = sum(float(share[g]) for g in present)
    if total_share <= 0:
        raise ValueError(f"sampling.group_share of the groups present {present} sums to 0")
    raw = np.array([float(class_weights.get(c, 1.0)) for c in classes])
    weights = np.zeros(len(classes))
    grp = np.asarray(groups)
    for g in present:
        mask = grp == g
        if raw[mask].sum() > 0:
            weights[mask] = float(share[g]) / total_share * raw[mask] / raw[mask].sum()
    if weights.sum() <= 0:
        raise ValueError("sampling weights are all zero")
    return weights / weights.sum()


class ColourPatchDataset(PackedSplitDataset):
    """One split of a packed patch file: ``{"cond": L (1,p,p), "target": ab (2,p,p), "frame": name}``.

    With ``frame_view`` the cond is (2,p,p): the patch's L and its frame's whole view
    (:func:`frame_view_channel` of the packed ``frame_thumb``), for models/global_unet.py.

    Tensors are float32 in [-1, 1]. With ``augment`` (default: on for "train" only) each item is
    flipped left-right with probability 0.5, L and ab together; draws are keyed on ``seed``, the index
    and the sampler's draw number, as in PairDataset (both are a
    :class:`~areograph.data.dataset.PackedSplitDataset`), so resuming repeats them exactly.
    ``sample_weights`` (from ``sampling``, see :func:`class_sampling_weights`) tells the trainer to
    draw items by class instead of uniformly.
    """

    what = "patches"
    size_name = "patch size"

    def __init__(
        self,
        packed: str | Path,
        split: str,
        augment: bool | None = None,
        seed: int = 0,
        sampling: Mapping[str, Any] | None = None,
        frame_view: bool = False,
    ) -> None:
        super().__init__(packed, split, split == "train" if augment is None else augment, seed)
        arrays = self.read(
            ("L", "ab", "frame_index"),
            whole=("frames", "frame_class", "frame_group", "frame_thumb"),
            optional=("frame_class", "frame_group", "frame_thumb"),
        )
        if frame_view and "frame_thumb" not in arrays:
            raise ValueError(f"{packed}: no frame_thumb (repack the patches) for a global-view colouriser")
        self.thumbs = arrays["frame_thumb"] if frame_view else None
        self.frame_index = arrays["frame_index"]
        self.lightness = np.ascontiguousarray(arrays["L"])
        self.ab = np.ascontiguousarray(arrays["ab"])
        frame_index = arrays["frame_index"]
        self.frame_names = [str(arrays["frames"][i]) for i in frame_index]
        labelled = "frame_group" in arrays
        classes = arrays["frame_class"][frame_index].tolist() if labelled else [""] * len(frame_index)
        groups = arrays["frame_group"][frame_index].tolist() if labelled else [""] * len(frame_index)
        self.sample_weights = class_sampling_weights(classes, groups, sampling)
        self.patch_px = int(self.lightness.shape[-1])
        self.set_sizes(self.patch_px, self.patch_px)  # load_px == crop_px: no resize, no crop, only the flip

    def __len__(self) -> int:
        return len(self.frame_names)

    def raw_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        lightness = self.lightness[index].astype(np.float32)
        if self.thumbs is not None:  # channel 1: the whole frame's view, at the patch size
            view = frame_view_channel(self.thumbs[self.frame_index[index]], self.patch_px).numpy()
            lightness = np.concatenate([lightness, view])
        return lightness, self.ab[index].astype(np.float32)

    def labels(self, index: int) -> dict[str, Any]:
        return {"frame": self.frame_names[index]}


def training_class_counts(packed: str | Path) -> dict[str, int]:
    """How many training frames of each labelled class a packed set holds ({} for an unlabelled one).

    Beside a per-class validation figure it says whether a class was learnt at all: the MSL training
    split's 35 "drill holes" frames are one brushed spot, against 419 drill-hole frames in validation.
    """
    z = read_packed(packed, ("frame_class", "frame_split"), optional={"frame_class"})
    if "frame_class" not in z:
        return {}
    pairs = zip(z["frame_class"], z["frame_split"], strict=True)
    return dict(Counter(str(name) for name, split in pairs if split == "train" and str(name)))


@dataclass(frozen=True)
class HeldoutFrame:
    """A validation frame at training scale: name, sol, RGB float32 (H, W, 3) in [0, 1], class, group."""

    name: str
    sol: int
    rgb: np.ndarray
    class_name: str = ""
    group: str = ""


def heldout_frames(kept_dir: str | Path, packed: str | Path, split: str = "val") -> list[HeldoutFrame]:
    """The whole frames of one split, loaded and resized exactly as when they were packed.

    Evaluation colourises full frames (no patch borders) at the scale the model was trained at.
    """
    kept_dir = Path(kept_dir)
    keys = ("frames", "frame_sol", "frame_split", "max_side_px", "frame_class", "frame_group")
    z = read_packed(packed, keys, optional={"frame_class", "frame_group"})
    names, sols, splits = z["frames"], z["frame_sol"], z["frame_split"]
    max_side_px = int(z["max_side_px"])
    blank = np.full(len(names), "")
    classes, groups = z.get("frame_class", blank), z.get("frame_group", blank)
    frames = [
        HeldoutFrame(str(n), int(s), load_frame(kept_dir / str(n), max_side_px), str(c), str(g))
        for n, s, sp, c, g in zip(names, sols, splits, classes, groups, strict=True)
        if sp == split
    ]
    if not frames:
        raise ValueError(f"{packed}: no frames in split {split!r}")
    return frames
