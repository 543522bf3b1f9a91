"""The rover track, one function per workflow step: filter, pack, train, evaluate, colourise, video.

The colouriser sees CIE L and predicts a, b (images/lab.py); full frames are colourised with the same
overlapping-window blended inference as the Mars mosaic (render/windows.py), keeping each frame's own L.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from areograph.artefacts.collection import manifest_path
from areograph.artefacts.frame_sequence import read_frames_index, write_frames_index
from areograph.artefacts.model_dir import COLOUR_TASK, ModelMeta
from areograph.artefacts.packed import read_packed
from areograph.atomic import atomic_dir, atomic_path, check_destination, parents_made
from areograph.data.colour import AB_EDGES, THUMB_PX, ColourPatchDataset, pack_patches
from areograph.images.grey import GreyProbe, probe_grey, read_grey
from areograph.images.lab import COLOUR_SPACE, grey_to_l_scaled
from areograph.images.pds3 import list_frames, read_edr
from areograph.images.quality import QualityThresholds, filter_collection
from areograph.models.specs import SpecInputs
from areograph.render.frames import colourise_l, load_colouriser
from areograph.render.video import caption_frame, side_by_side, write_video
from areograph.training.kinds import colour_kind
from areograph.training.trainer import TrainConfig, check_arithmetic, train

log = logging.getLogger("areograph.colourise")

def filter_colour_frames(
    in_dir: str | Path, out_dir: str | Path, report_csv: str | Path, quality: Mapping[str, Any]
) -> list[Path]:
    """Drop blurred, empty, corrupt, greyscale and duplicate frames; one CSV row per input."""
    kept = filter_collection(Path(in_dir), Path(out_dir), Path(report_csv), QualityThresholds(**quality))
    log.info("quality filter kept %d frames", len(kept))
    return kept


def pack_colour_patches(
    kept_dir: str | Path, out_path: str | Path, patches: Mapping[str, Any]
) -> dict[str, Any]:
    """L / ab patches of the kept frames, split by sol."""
    kept_dir = Path(kept_dir)
    summary = pack_patches(kept_dir, manifest_path(kept_dir), Path(out_path), **patches)
    log.info("colour patches: %s", summary)
    return summary


def train_colour(
    kind: str,
    packed: str | Path,
    colouriser: Mapping[str, Any],
    baseline: Mapping[str, Any],
    training: Mapping[str, Any],
    out_dir: str | Path,
    threads: int = 1,
    sampling: Mapping[str, Any] | None = None,
) -> Path:
    """Train the colouriser or the seed baseline (MSE) with the shared trainer.

    ``kind`` is the role ("colouriser" or "baseline", stored in the model file); the colouriser's
    ``loss``, ``adversarial`` and ``global_view`` keys select a colour kind (training/kinds.py
    ``colour_kind``). ``loss``: ``l1`` (regression; with ``adversarial: true`` pix2pix, cGAN + L1) or
    ``classification`` (ab bins estimated from the packed training histogram, class rebalancing
    ``rebalance_lambda``, annealed-mean decoding at ``temperature``; models/ab_bins.py) or
    ``l1_colourfulness`` (L1 + colourfulness matching, training/trainer.py). ``global_view: true``
    gives the U-Net its frame's whole view (models/global_unet.py). ``sampling``
    draws training patches by class group (data/colour.py: class_sampling_weights).
    """
    torch.set_num_threads(max(1, threads))
    check_arithmetic(training)  # a refused precision stops here, before the data are read
    model_kind = colour_kind(kind, colouriser)  # which network and how it trains: training/kinds.py
    conditioning = ("L", *model_kind.extra_inputs)
    dataset = ColourPatchDataset(Path(packed), "train", seed=training.get("seed", 0), sampling=sampling,
                                 frame_view="frame_view" in conditioning)  # fmt: skip
    z = read_packed(packed, ("patch_px", "max_side_px", "train_ab_hist"), optional={"train_ab_hist"})
    patch_px, max_side_px, hist = int(z["patch_px"]), int(z["max_side_px"]), z.get("train_ab_hist")
    data = {"global_px": THUMB_PX, "ab_hist": hist, "ab_edges": AB_EDGES}
    try:
        generator, discriminator = model_kind.specs(
            SpecInputs(len(conditioning), 2, patch_px, colouriser, baseline, data)
        )
    except ValueError as err:  # what the network needs from the packed data (the ab histogram)
        raise ValueError(f"{packed}: {err} (repack the patches)") from err
    cfg = TrainConfig(**{k: v for k, v in training.items() if k != "load_px"}, **model_kind.trainer)
    meta = ModelMeta(
        task=COLOUR_TASK,
        kind=kind,
        loss=model_kind.loss,
        tile_px=patch_px,
        conditioning=conditioning,
        colour_space=COLOUR_SPACE,
        max_side_px=max_side_px,
        sampling=dict(sampling or {}),
    ).to_dict()
    return train(generator, discriminator, dataset, cfg, Path(out_dir), extra_meta=meta)


def colourise_edrs(
    edr_dir: str | Path,
    model_path: str | Path,
    window_px: int | None,
    overlap_px: int | None,
    out_dir: str | Path,
    stretch_percentiles: Sequence[float] = (0.5, 99.5),
    chroma_side_px: int | None = None,
    window_override: bool = False,
) -> list[Path]:
    """Colourise every EDR at full resolution, in spacecraft-clock order: PNGs + frames.csv (captions).

    ``window_px`` None = the model's training patch size; ``chroma_side_px`` (see :func:`colourise_l`)
    None = the long side of the frames the model was trained on.
    """
    model, meta = load_colouriser(model_path)
    window_px = meta.window_px(window_px, model_path, "rovers.render.window_px", window_override)
    chroma_side_px = chroma_side_px or meta.max_side_px
    frames = list_frames(Path(edr_dir))
    if not frames:
        raise ValueError(f"{edr_dir}: no EDR frames to colourise")
    written = []
    with atomic_dir(out_dir) as tmp:
        rows = []
        for i, frame in enumerate(frames):
            grey, _ = read_edr(frame.path, percentiles=tuple(stretch_percentiles))
            rgb = colourise_l(model, grey_to_l_scaled(grey), window_px, overlap_px, chroma_side_px, rgb8=True)
            name = f"{i:04d}_{frame.product_id}.png"
            Image.fromarray(rgb).save(tmp / name)
            rows.append({"png": name, "edr": frame.path.name, "caption": frame.caption()})
            written.append(Path(out_dir) / name)
            log.info("colourised %s (%s)", frame.path.name, frame.caption())
        write_frames_index(tmp, rows)
    return written


class Colourised(NamedTuple):
    """What :func:`colourise_files` did: the outputs it wrote, and those it kept from an earlier run."""

    written: list[Path]
    kept: list[Path]


def output_name(path: str | Path) -> str:
    """``<stem>_colour.png``: the one place an input's output name is made."""
    return f"{Path(path).stem}_colour.png"


def check_colourise_inputs(files: Sequence[str | Path]) -> list[GreyProbe]:
    """Every input's header (and, for colour files, its pixels) checked before any work, in order.

    Errors name the file; two inputs that would write the same output are named together. Notices
    (a colour or alpha file read as grey) are logged as one warning line each.
    """
    if not files:
        raise ValueError("no files to colourise")
    probes = [probe_grey(f) for f in files]
    by_name: dict[str, list[Path]] = {}
    for probe in probes:
        by_name.setdefault(output_name(probe.path), []).append(probe.path)
    clashes = [(name, paths) for name, paths in by_name.items() if len(paths) > 1]
    if clashes:
        name, paths = clashes[0]
        raise ValueError(
            f"{' and '.join(map(str, paths))} would all be written as {name} (same file name stem); "
            "colourise them into separate folders"
        )
    for probe in probes:
        if probe.notice:
            log.warning("%s", probe.notice)
    return probes


def _complete(out: Path, *inputs: Path) -> bool:
    """An output left by an earlier run counts as complete when it is newer than what it was made from.

    Outputs are written atomically, so one that exists is whole; a newer input or model redoes it.
    """
    return out.is_file() and out.stat().st_mtime >= max(p.stat().st_mtime for p in inputs)


def colourise_files(
    files: Sequence[str | Path],
    model_path: str | Path,
    out_dir: str | Path,
    window_px: int | None = None,
    overlap_px: int | None = None,
    stretch_percentiles: Sequence[float] = (0.5, 99.5),
    chroma_side_px: int | None = None,
    progress: bool = False,
    window_override: bool = False,
) -> Colourised:
    """Colourise any EDRs or greyscale images into ``out_dir/<stem>_colour.png`` (as colourise_edrs does).

    Every input is checked (:func:`check_colourise_inputs`) and the output folder too before any work;
    then one frame at a time is read, colourised and written atomically, so memory does not grow with
    the number of inputs. Outputs of an earlier (interrupted) run that are newer than their input and
    the model are kept, not redone. A run that fails before its first output leaves no folder behind.
    """
    probes = check_colourise_inputs(files)  # every file's header before the first frame is colourised
    out_dir = check_destination(out_dir, "output folder")
    model, meta = load_colouriser(model_path)
    window_px = meta.window_px(window_px, model_path, "rovers.render.window_px", window_override)
    chroma_side_px = chroma_side_px or meta.max_side_px
    targets = [(probe.path, out_dir / output_name(probe.path)) for probe in probes]
    kept = [out for path, out in targets if _complete(out, path, Path(model_path))]
    todo = [(path, out) for path, out in targets if out not in kept]
    written = []
    with parents_made(out_dir):
        for path, out in tqdm(todo, desc="colourise", unit="image", disable=not progress or not todo):
            grey = read_grey(path, stretch_percentiles)
            lightness = grey_to_l_scaled(grey)
            del grey
            rgb = colourise_l(model, lightness, window_px, overlap_px, chroma_side_px, rgb8=True)
            del lightness
            with atomic_path(out) as tmp:
                Image.fromarray(rgb).save(tmp, format="PNG")
            del rgb
            written.append(out)
            log.info("colourised %s -> %s", path, out)
    return Colourised(written, kept)


def render_rover_videos(
    frames_dir: str | Path,
    edr_dir: str | Path,
    out_video: str | Path,
    out_side_by_side: str | Path,
    out_still: str | Path,
    fps: int = 5,
    stretch_percentiles: Sequence[float] = (0.5, 99.5),
) -> None:
    """Captioned colour video, greyscale | colourised video, and a still of the middle frame."""
    frames_dir = Path(frames_dir)
    rows = read_frames_index(frames_dir)
    colour = [np.asarray(Image.open(frames_dir / r["png"]).convert("RGB")) for r in rows]
    captions = [r["caption"] for r in rows]
    grey = [read_edr(Path(edr_dir) / r["edr"], percentiles=tuple(stretch_percentiles))[0] for r in rows]
    pairs = [side_by_side(g, c, gap_px=8) for g, c in zip(grey, colour, strict=True)]
    write_video(colour, captions, out_video, fps=fps)
    write_video(pairs, captions, out_side_by_side, fps=fps)
    mid = len(pairs) // 2
    still = Image.fromarray(caption_frame(pairs[mid], captions[mid]))
    still.thumbnail((1400, 1400))
    with atomic_path(out_still) as tmp:
        still.save(tmp)
