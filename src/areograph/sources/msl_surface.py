"""The labelled MSL surface image set (Stanboli & Wagstaff, DOI 10.5281/zenodo.1049137) as a collection.

It reads a user's clone in the authors' published layout (``calibrated/*.JPG``, the
``*-calibrated-shuffled.txt`` split files of ``calibrated/<file> <class id>`` lines and
``msl_synset_words-indexed.txt``) and delivers the frames with a MANIFEST.csv in the same form as the
other colour collections (``file,camera,sol,...``), plus what only this set knows: the authors' split
(train = sols 3-180, val = sols 182-564, by sol so scene-disjoint), the class id and name, and the
class group (``scenery`` = ground, horizon, sun; ``hardware`` = everything else) that sampling weights
and per-group metrics use. Images NASA/JPL-Caltech/MSSS, public domain.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from areograph.artefacts.collection import write_manifest
from areograph.atomic import atomic_dir
from areograph.sources import Source, SourceError

SPLIT_FILES = {"train": "train-calibrated-shuffled.txt", "val": "val-calibrated-shuffled.txt"}
CLASS_FILE = "msl_synset_words-indexed.txt"
SCENERY = frozenset({"ground", "horizon", "sun"})
CAMERAS = {"ML": "MSL Mastcam-Left (M-34)", "MR": "MSL Mastcam-Right (M-100)", "MH": "MSL MAHLI"}
MANIFEST_HEADER = ("file", "camera", "sol", "split", "class_id", "class_name", "class_group", "origin")
ORIGIN = "msl-surface:10.5281/zenodo.1049137"
_PRODUCT = re.compile(r"^(\d{4})(M[LRH])")


def class_group(name: str) -> str:
    """``scenery`` for ground / horizon / sun, ``hardware`` for the rover's own parts and instruments."""
    return "scenery" if name in SCENERY else "hardware"


@dataclass(frozen=True)
class LabelledFrame:
    """One line of a split file, resolved: the file name, its sol and camera, split and class."""

    file: str
    sol: int
    camera: str
    split: str
    class_id: int
    class_name: str

    def manifest_row(self) -> tuple[Any, ...]:
        return (self.file, self.camera, self.sol, self.split, self.class_id, self.class_name,
                class_group(self.class_name), ORIGIN)  # fmt: skip


def read_classes(path: Path) -> dict[int, str]:
    """Class id -> name from the synset file (``<id> <name words>`` per line)."""
    if not path.is_file():
        raise SourceError(f"{path}: class list missing (is this an msl-surface clone?)")
    classes: dict[int, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        key, _, name = line.strip().partition(" ")
        if not key.isdigit() or not name.strip():
            raise SourceError(f"{path}:{n}: expected '<class id> <name>', got {line!r}")
        classes[int(key)] = " ".join(name.split())
    if not classes:
        raise SourceError(f"{path}: no classes listed")
    return classes


def read_split(root: Path, split: str, classes: dict[int, str]) -> list[LabelledFrame]:
    """The frames of one split file, checked: known class, parsable product id, file present."""
    path = root / SPLIT_FILES[split]
    if not path.is_file():
        raise SourceError(f"{path}: split file missing (is this an msl-surface clone?)")
    frames = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise SourceError(f"{path}:{n}: expected 'calibrated/<file> <class id>', got {line!r}")
        name = Path(parts[0]).name
        match = _PRODUCT.match(name)
        if match is None:
            raise SourceError(f"{path}:{n}: {name!r} does not start with a 4-digit sol and camera code")
        cid = int(parts[1])
        if cid not in classes:
            raise SourceError(f"{path}:{n}: class id {cid} is not in {CLASS_FILE}")
        if not (root / parts[0]).is_file():
            raise SourceError(f"{path}:{n}: listed image {root / parts[0]} is missing")
        frames.append(LabelledFrame(name, int(match[1]), CAMERAS[match[2]], split, cid, classes[cid]))
    return frames


class MslSurfaceSource(Source):
    """``rover_colour`` from a clone of the labelled MSL surface set (``options.root``)."""

    name: ClassVar[str] = "msl_surface"
    inputs: ClassVar[frozenset[str]] = frozenset({"rover_colour"})
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["root"],
        "properties": {
            "root": {"type": "string"},  # the folder holding calibrated/ and the split files
            "splits": {
                "type": "array",
                "items": {"enum": list(SPLIT_FILES)},
                "minItems": 1,
                "uniqueItems": True,
            },
        },
    }

    def frames(self) -> list[LabelledFrame]:
        """Every labelled frame of the selected splits, sorted by file name; errors name the file."""
        if "root" not in self.options:
            raise SourceError("msl_surface: options.root (the folder of your clone) is required")
        root = Path(self.options["root"]).expanduser()
        if not root.is_dir():
            raise SourceError(f"{root}: msl-surface folder not found")
        classes = read_classes(root / CLASS_FILE)
        splits = self.options.get("splits", list(SPLIT_FILES))
        frames = [f for s in splits for f in read_split(root, s, classes)]
        seen: dict[str, str] = {}
        for f in frames:
            if f.file in seen:
                raise SourceError(f"{root}: {f.file} is listed twice ({seen[f.file]} and {f.split})")
            seen[f.file] = f.split
        return sorted(frames, key=lambda f: f.file)

    def fetch_collection(self, input_name: str, out_dir: Path) -> Path:
        """Copy the frames and write MANIFEST.csv (atomically: no partial collection on error)."""
        if input_name not in self.inputs:
            return super().fetch_collection(input_name, out_dir)
        frames = self.frames()
        root = Path(self.options["root"]).expanduser()
        with atomic_dir(out_dir) as tmp:
            for f in frames:
                shutil.copy2(root / "calibrated" / f.file, tmp / f.file)
            write_manifest(tmp, MANIFEST_HEADER, [f.manifest_row() for f in frames])
        return out_dir
