"""Colourising one rover frame with a trained colouriser: its L in, predicted ab, the frame's own L kept.

Shared by the rover track (colourise.py) and its evaluation (colour_eval.py), so both run the same
overlapping-window inference (render/windows.py) with the model's own patch and frame sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from areograph.artefacts.model_dir import ModelMeta
from areograph.artefacts.types import ModelMismatchError
from areograph.data.colour import frame_thumbnail, frame_view_channel
from areograph.images.lab import COLOUR_SPACE, lab_scaled_to_rgb, lab_scaled_to_rgb8
from areograph.render.predictor import generator_predictor
from areograph.render.windows import predict_blended
from areograph.training.checkpoint import load_generator, load_model_meta


def load_colouriser(path: str | Path) -> tuple[torch.nn.Module, ModelMeta]:
    """(generator in eval mode, its metadata), after checking it predicts in this build's colour space.

    Files written before the colour space was stored were all trained in :data:`COLOUR_SPACE`.
    """
    meta = load_model_meta(Path(path))
    stored = meta.colour_space or COLOUR_SPACE
    if stored != COLOUR_SPACE:
        raise ModelMismatchError(
            f"{path}: trained in colour space {stored}, but this build converts {COLOUR_SPACE} "
            "(images/lab.py); retrain it or use a matching areograph version"
        )
    return load_generator(Path(path)), meta


def with_frame_view(
    predict: Callable[[np.ndarray], np.ndarray], view: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """``predict`` with the frame's view (1, w, w) appended as a second channel to every window."""

    def run(batch: np.ndarray) -> np.ndarray:
        views = np.broadcast_to(view[None], (batch.shape[0], *view.shape))
        return predict(np.concatenate([batch, views], axis=1))

    return run


def colourise_l(
    model: torch.nn.Module,
    lightness: np.ndarray,
    window_px: int,
    overlap_px: int | None,
    chroma_side_px: int | None = None,
    rgb8: bool = False,
    precision: str = "auto",
) -> np.ndarray:
    """RGB (H, W, 3) in [0, 1] from scaled L (1, H, W): predicted ab, the frame's own L.

    ``rgb8``: uint8 levels instead (what a PNG holds), converted strip by strip, which a large frame
    needs: float RGB of a 24 MP frame alone is 288 MB. ``precision``: the inference arithmetic
    (render/predictor.py; auto = bf16 where native).

    ``overlap_px`` None = half the window: every pixel is then blended from about four windows, so
    where neighbouring windows disagree on a colour the change is spread over half a window, not a band.

    With ``chroma_side_px`` a larger frame's ab is predicted on its L downscaled (area) to that long
    side and upsampled bilinearly: the window then sees objects at the scale the model learnt them
    (a 1024 px HazCam frame at 256 px, like an MSL browse frame), while L, and so all detail, stays
    at full resolution. Chroma carries little high-frequency detail, which is why this works. The
    memory of a frame is then its L, its upsampled ab and its RGB (float32, or uint8 with ``rgb8``):
    about 15 bytes a pixel; the windows only ever see the small frame.

    A model with ``frame_view_px`` (models/global_unet.py) is given, beside every window, the
    whole frame's view computed from the frame it colourises (at the chroma scale), exactly as its
    training patches carried their frame's packed thumbnail.
    """
    height, width = lightness.shape[-2:]
    scale = (chroma_side_px or max(height, width)) / max(height, width)
    small = lightness
    if scale < 1:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        small = F.interpolate(torch.from_numpy(lightness[None]), size=size, mode="area")[0].numpy()
    overlap_px = window_px // 2 if overlap_px is None else overlap_px
    predict = generator_predictor(model, precision)
    view_px = getattr(model, "frame_view_px", None)
    if view_px:  # a global-view model: every window also gets the whole frame's view (as in training)
        view = frame_view_channel(frame_thumbnail(small, view_px), window_px).numpy()
        predict = with_frame_view(predict, view)
    ab = predict_blended(small, predict, window_px, overlap_px, batch_size=16)
    if scale < 1:
        ab = F.interpolate(torch.from_numpy(ab[None]), size=(height, width), mode="bilinear",
                           align_corners=False)[0].numpy()  # fmt: skip
    return lab_scaled_to_rgb8(lightness, ab) if rgb8 else lab_scaled_to_rgb(lightness, ab)
