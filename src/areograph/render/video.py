"""Captioned MP4s (H.264, yuv420p) with imageio-ffmpeg, and a probe to check what was written.

yuv420p (the pixel format every browser and player decodes) stores chroma at half resolution, so
frame width and height must be even; odd sizes are padded by one replicated edge row/column here
rather than letting the encoder rescale (imageio's ``macro_block_size`` rescale would blur frames).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from areograph.atomic import atomic_path

CODEC = "libx264"
PIX_FMT = "yuv420p"


def _as_rgb_uint8(frame: np.ndarray, what: str) -> np.ndarray:
    """(H, W, 3) uint8 from uint8 or float [0, 1] input, greyscale (H, W) broadcast to three channels."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        if not np.issubdtype(frame.dtype, np.floating):
            raise ValueError(f"{what}: expected uint8 or float [0, 1] pixels, got {frame.dtype}")
        frame = np.round(np.clip(frame, 0.0, 1.0) * 255).astype(np.uint8)
    if frame.ndim == 2:
        frame = np.repeat(frame[..., None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{what}: expected an (H, W, 3) or (H, W) image, got shape {frame.shape}")
    return frame


def side_by_side(left: np.ndarray, right: np.ndarray, gap_px: int = 0) -> np.ndarray:
    """Two images of equal height next to each other (greyscale inputs become grey RGB), uint8."""
    left, right = _as_rgb_uint8(left, "left image"), _as_rgb_uint8(right, "right image")
    if left.shape[0] != right.shape[0]:
        raise ValueError(f"side_by_side needs equal heights, got {left.shape[0]} and {right.shape[0]}")
    gap = np.zeros((left.shape[0], gap_px, 3), np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def caption_frame(frame: np.ndarray, caption: str) -> np.ndarray:
    """Burn ``caption`` into the bottom of ``frame`` on a dark translucent band; same size out.

    Pillow's default font (scalable when FreeType is present) is sized to ~1/28 of the frame height
    so that the text reads the same at 256 and 2048 px.
    """
    img = Image.fromarray(_as_rgb_uint8(frame, "frame"))
    if not caption:
        return np.asarray(img)
    size = max(10, img.height // 28)
    font = ImageFont.load_default(size=size)
    pad = max(2, size // 3)
    band = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    top = img.height - size - 2 * pad
    draw.rectangle((0, top, img.width, img.height), fill=(0, 0, 0, 170))
    draw.text((pad, top + pad), caption, font=font, fill=(255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(img.convert("RGBA"), band).convert("RGB"))


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad an odd height/width by replicating the last row/column (yuv420p needs even sizes)."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge") if pad_h or pad_w else frame


def write_video(
    frames: Sequence[np.ndarray],
    captions: Sequence[str],
    out_path: str | Path,
    fps: float = 5,
    quality: int = 8,
) -> Path:
    """Write frames (all one size; uint8 or float [0, 1]) with one caption each as an H.264 MP4.

    ``quality`` is imageio-ffmpeg's 0..10 scale (10 = best). The file appears atomically: a failed
    encode leaves nothing at ``out_path``. ``+faststart`` moves the index to the front for streaming.
    """
    out_path = Path(out_path)
    if not frames:
        raise ValueError(f"{out_path}: no frames to write")
    if len(captions) != len(frames):
        raise ValueError(f"{out_path}: {len(frames)} frames but {len(captions)} captions")
    if fps <= 0:
        raise ValueError(f"{out_path}: fps must be positive, got {fps}")
    shapes = {np.shape(f)[:2] for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"{out_path}: frames differ in size {sorted(shapes)}; a video needs one size")
    with atomic_path(out_path) as tmp:
        first = _even(caption_frame(frames[0], captions[0]))
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            (first.shape[1], first.shape[0]),
            pix_fmt_in="rgb24",
            pix_fmt_out=PIX_FMT,
            fps=fps,
            codec=CODEC,
            quality=quality,
            macro_block_size=2,
            output_params=["-movflags", "+faststart"],
        )
        writer.send(None)  # start the generator (and ffmpeg)
        try:
            writer.send(np.ascontiguousarray(first))
            for frame, caption in zip(frames[1:], captions[1:], strict=True):
                writer.send(np.ascontiguousarray(_even(caption_frame(frame, caption))))
        finally:
            writer.close()
    return out_path


def probe_video(path: str | Path) -> dict[str, Any]:
    """Frame count, rate, size, codec and pixel format of a video, as ffmpeg decodes it.

    The count comes from decoding every frame (``count_frames_and_secs``), not from the container
    header, so it is what a viewer sees.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: video not found")
    n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
    finally:
        reader.close()
    codec_line = str(meta.get("codec", ""))
    pix_fmt = str(meta.get("pix_fmt", ""))
    return {
        "frames": int(n_frames),
        "fps": float(meta["fps"]),
        "width": int(meta["size"][0]),
        "height": int(meta["size"][1]),
        "codec": codec_line.split()[0] if codec_line else "",
        "pix_fmt": re.split(r"[\s(,]", pix_fmt)[0],
    }
