"""A colourised frame sequence: numbered PNGs in spacecraft-clock order plus ``frames.csv``.

``colourise_edrs`` writes it and the video step reads it; the index row of each PNG names the EDR it
came from (so the side-by-side video can show the greyscale original) and the caption burnt into
the video. The order of the rows is the order of the video.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

FRAMES_INDEX = "frames.csv"
FRAME_FIELDS = ("png", "edr", "caption")


def frames_index(folder: Path | str) -> Path:
    """The index of the frame sequence in ``folder``."""
    return Path(folder) / FRAMES_INDEX


def write_frames_index(folder: Path | str, rows: Iterable[Mapping[str, str]]) -> Path:
    """Write ``folder/frames.csv`` (png, edr, caption), in video order."""
    path = frames_index(folder)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(FRAME_FIELDS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_frames_index(folder: Path | str) -> list[dict[str, str]]:
    """The rows of a frame sequence's index, in video order; errors name the file."""
    path = frames_index(folder)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: frame index not found")
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(FRAME_FIELDS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: a frame index needs columns {FRAME_FIELDS}; missing {sorted(missing)}")
        return list(reader)
