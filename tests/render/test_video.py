"""Captioned MP4 writing, checked by decoding the file with ffmpeg."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from areograph.render.video import caption_frame, probe_video, side_by_side, write_video


def _frames(n: int, height: int, width: int) -> list[np.ndarray]:
    return [np.full((height, width, 3), 60 + 30 * i, np.uint8) for i in range(n)]


def test_six_frames_at_five_fps(tmp_path: Path) -> None:
    out = write_video(_frames(6, 120, 160), [f"sol {4000 + i}" for i in range(6)], tmp_path / "v.mp4", fps=5)
    assert out == tmp_path / "v.mp4"
    info = probe_video(out)
    assert info == {
        "frames": 6,
        "fps": 5.0,
        "width": 160,
        "height": 120,
        "codec": "h264",
        "pix_fmt": "yuv420p",
    }
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]  # no temporary left behind


def test_odd_sizes_are_padded_even_and_captions_are_burned_in(tmp_path: Path) -> None:
    frames = [np.full((99, 131, 3), 220, np.uint8) for _ in range(3)]
    out = write_video(frames, ["sol 1", "sol 2", ""], tmp_path / "odd.mp4", fps=5)
    info = probe_video(out)
    assert (info["width"], info["height"], info["frames"]) == (132, 100, 3)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    decoded = [np.frombuffer(buf, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for buf in reader]
    assert len(decoded) == 3
    assert decoded[0][:40].mean() > 200  # top of the frame untouched
    assert decoded[0][-8:].mean() < 150  # dark caption band at the bottom
    assert decoded[2][-8:].mean() > 200  # an empty caption draws no band


def test_caption_keeps_size_and_changes_only_the_bottom() -> None:
    frame = np.full((200, 300, 3), 200, np.uint8)
    out = caption_frame(frame, "Opportunity Front HazCam Left | sol 4000 | 12:25:27 LTST")
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.array_equal(out[:150], frame[:150]) and not np.array_equal(out[150:], frame[150:])


def test_side_by_side() -> None:
    grey = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    colour = np.zeros((4, 6, 3), np.uint8)
    both = side_by_side(grey, colour, gap_px=2)
    assert both.shape == (4, 13, 3) and both.dtype == np.uint8
    assert np.array_equal(both[:, :5, 0], both[:, :5, 2]) and both[0, 4, 0] == round(4 / 19 * 255)
    assert both[:, 5:7].max() == 0  # the gap
    with pytest.raises(ValueError, match="equal heights"):
        side_by_side(grey, np.zeros((5, 5, 3), np.uint8))


def test_bad_input_raises_and_writes_nothing(tmp_path: Path) -> None:
    frames = [*_frames(1, 64, 64), *_frames(1, 32, 64)]
    with pytest.raises(ValueError, match="differ in size"):
        write_video(frames, ["a", "b"], tmp_path / "bad.mp4")
    with pytest.raises(ValueError, match="captions"):
        write_video(_frames(2, 64, 64), ["a"], tmp_path / "bad.mp4")
    assert list(tmp_path.iterdir()) == []
