"""Greyscale frames from any input a user may hand over: PDS EDRs and image files of any bit depth.

Rover and lab frames come as 8-bit JPEG/PNG, as 12-bit counts stored in 16 bits, as 16-bit PNG/TIFF
and as float TIFF. Converting those with Pillow's ``convert("L")`` clips everything above 255 to white,
so only 8-bit grey is taken as display levels (``/ 255``); deeper integers and floats get the same
robust percentile stretch as the EDRs (:func:`~areograph.images.pds3.stretch_12bit`). Colour and alpha
are not refused: the frame is colourised from its lightness, and :func:`probe_grey` says so in one line
(a ``notice``) before any work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from areograph.images.pds3 import read_edr, read_frame, stretch_12bit

EDR_SUFFIX = ".img"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
# Pillow modes read as one grey band, by how their values become [0, 1].
_DISPLAY_GREY = {"1", "L"}  # 8-bit (or bilevel) display levels: / 255
_DEEP_GREY = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}  # counts or floats: robust stretch
_ALPHA = {"LA", "La", "PA", "RGBA", "RGBa"}
# How far apart R, G and B may be (levels of 255, 99.9th percentile) for an RGB file to count as grey:
# JPEG chroma subsampling leaves a level or two on a grey picture saved as RGB.
GREY_TOLERANCE = 4


class ImageInputError(ValueError):
    """An input file cannot be read as a greyscale frame; the message names the file and why."""


@dataclass(frozen=True)
class GreyProbe:
    """What :func:`probe_grey` learnt from a file's header: enough to refuse it before any work."""

    path: Path
    width: int
    height: int
    mode: str  # Pillow's mode, or "EDR"
    notice: str | None = None  # one line for the user when the file is not plain grey


def _open(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageInputError(f"{path}: unreadable image ({exc})") from exc


def _is_grey_rgb(rgb: np.ndarray) -> bool:
    spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    return spread.size == 0 or float(np.percentile(spread, 99.9)) <= GREY_TOLERANCE


def probe_grey(path: str | Path) -> GreyProbe:
    """Check one input from its header (and, for colour files, its pixels) without keeping them.

    Raises :class:`ImageInputError` (or the EDR reader's error) naming the file when it is missing, of an
    unknown kind or unreadable; ``notice`` says when a colour or alpha file will be read as grey.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageInputError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix == EDR_SUFFIX:
        read_frame(path)  # label and layout; the pixels are read when the frame's turn comes
        return GreyProbe(path, 0, 0, "EDR")
    if suffix not in IMAGE_SUFFIXES:
        raise ImageInputError(f"{path}: not a PDS EDR (.IMG) or an image ({', '.join(IMAGE_SUFFIXES)})")
    with _open(path) as img:
        width, height, mode = img.width, img.height, img.mode
        notice = None
        if mode not in _DISPLAY_GREY | _DEEP_GREY:
            notice = _colour_notice(path, img)
    return GreyProbe(path, width, height, mode, notice)


def _colour_notice(path: Path, img: Image.Image) -> str | None:
    """None for a colour-mode file whose pixels are grey; else the one line saying what happens."""
    alpha = img.mode in _ALPHA
    try:
        rgb = np.asarray(img.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageInputError(f"{path}: unreadable image ({exc})") from exc
    colour = not _is_grey_rgb(rgb)
    if not colour and not alpha:
        return None
    kind = f"{'colour' if colour else 'grey'} {img.mode} image{' with alpha' if alpha else ''}"
    what = "its own colours are replaced" if colour else "the alpha channel is ignored"
    return f"{path}: {kind}; colourised from its lightness ({what})"


def read_grey(path: str | Path, stretch_percentiles: Sequence[float] = (0.5, 99.5)) -> np.ndarray:
    """(H, W) float32 grey levels in [0, 1] of a PDS EDR or an image file of any bit depth.

    8-bit grey is read as display levels; 16-bit, 32-bit integer and float grey get the EDRs' robust
    percentile stretch (non-finite floats count as missing and become 0); colour and alpha files are
    read as the lightness of their RGB (alpha dropped), after :func:`probe_grey`'s notice.
    """
    path = Path(path)
    percentiles = (float(stretch_percentiles[0]), float(stretch_percentiles[1]))
    if path.suffix.lower() == EDR_SUFFIX:
        return read_edr(path, percentiles=percentiles)[0]
    with _open(path) as img:
        try:
            if img.mode in _DISPLAY_GREY:
                return np.asarray(img.convert("L"), dtype=np.float32) / np.float32(255.0)
            if img.mode in _DEEP_GREY:
                values = np.asarray(img)
                valid = np.isfinite(values) if values.dtype.kind == "f" else np.ones(values.shape, bool)
                return stretch_12bit(np.where(valid, values, 0), valid, percentiles)
            return np.asarray(img.convert("L"), dtype=np.float32) / np.float32(255.0)
        except (OSError, SyntaxError, ValueError) as exc:  # truncated data shows only when decoded
            raise ImageInputError(f"{path}: unreadable image ({exc})") from exc
