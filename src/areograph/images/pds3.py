"""Read Mars Exploration Rover EDRs: PDS3 attached label (``pvl``) + image (GDAL's PDS driver).

An EDR is one file: an ODL text label (``KEY = VALUE`` lines, ``OBJECT``/``GROUP`` blocks, ``END``),
then the image records. The label gives the facts the video needs (sol, local true solar time,
spacecraft clock, camera) and the byte layout, which is checked against the file size before GDAL
reads anything: on a short file GDAL only says "Read failed", which names neither the file nor why.

The 12-bit counts are mapped to [0, 1] by a robust per-frame stretch (see :func:`stretch_12bit`).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pvl
import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

LABEL_MAX_BYTES = 1 << 20  # MER EDR labels are ~30 KB; anything without END in 1 MiB is not a label
STRETCH_PERCENTILES = (0.5, 99.5)


class Pds3Error(ValueError):
    """An EDR could not be read; the message names the file and the problem."""


class Pds3LayoutError(Pds3Error):
    """The label's byte layout (RECORD_BYTES, FILE_RECORDS, ^IMAGE) contradicts the file itself."""


@dataclass(frozen=True)
class EdrFrame:
    """The label facts of one EDR that ordering, captions and provenance need."""

    path: Path
    product_id: str
    sol: int
    local_true_solar_time: str
    sclk_start: float
    instrument_id: str
    instrument_name: str
    start_time: str

    def caption(self, rover: str = "Opportunity") -> str:
        """A one-line video caption: rover, camera, sol and local solar time."""
        camera = self.instrument_name.title().replace("Hazard Avoidance Camera", "HazCam")
        return f"{rover} {camera} | sol {self.sol} | {self.local_true_solar_time} LTST"


# ---------------------------------------------------------------------------------------------- label


class _TextDates(pvl.decoder.OmniDecoder):
    """pvl's decoder, except that dates and times stay text as the label spells them.

    Captions print ``LOCAL_TRUE_SOLAR_TIME`` as written (``12:25:27``; pvl would make it a
    ``datetime.time`` with a UTC zone that Mars local time does not have), and trying every date
    format on every value is three quarters of pvl's parse time on a 23 KB EDR label.
    """

    def decode_datetime(self, value: str) -> Any:
        raise ValueError(f"{value!r}: dates stay text")


def _label_text(path: Path) -> str:
    """The label text up to and including its END statement; error if the file has none."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(LABEL_MAX_BYTES)
    except OSError as exc:
        raise Pds3Error(f"{path}: cannot read: {exc}") from exc
    if not head:
        raise Pds3Error(f"{path}: empty file, no PDS3 label")
    text = head.decode("latin-1")
    if not text.lstrip().startswith("PDS_VERSION_ID"):
        raise Pds3Error(f"{path}: no PDS3 label (the file does not start with PDS_VERSION_ID)")
    end = re.search(r"^\s*END\s*$", text, flags=re.MULTILINE)
    if end is None:
        raise Pds3Error(f"{path}: PDS3 label has no END statement in its first {LABEL_MAX_BYTES} bytes")
    return text[: end.end()]


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> pvl.PVLModule:
    """Parse once per distinct label: listing frames and then reading them sees each label twice."""
    return pvl.loads(text, decoder=_TextDates())


def read_label(path: str | Path) -> Mapping[str, Any]:
    """Parse the attached PDS3 label with ``pvl`` (OBJECT/GROUP blocks become nested mappings).

    Parsed here rather than from GDAL's metadata because GDAL exposes only a few keywords and drops
    ``PLANET_DAY_NUMBER``, ``LOCAL_TRUE_SOLAR_TIME`` and the spacecraft clock. Repeated keys give
    the first value; pointers keep their caret (``^IMAGE``); a value with units is a
    ``pvl.Quantity`` (a byte-offset pointer is ``Quantity(offset, "BYTES")``). Treat it as read-only:
    the same parse is shared by every read of the same label.
    """
    path = Path(path)
    text = _label_text(path)
    try:
        return _parse(text)
    except (pvl.exceptions.ParseError, pvl.exceptions.LexerError, ValueError) as exc:
        why = " ".join(str(exc.args[-1]).split())  # pvl's message: what it expected, line and column
        raise Pds3Error(f"{path}: PDS3 label cannot be parsed: {why}") from None


def _require(label: Mapping[str, Any], key: str, path: Path) -> Any:
    if key not in label:
        raise Pds3Error(f"{path}: PDS3 label lacks {key}")
    return label[key]


def _int(label: Mapping[str, Any], key: str, path: Path, default: Any = None) -> int:
    """An integer label value; a malformed one (``RECORD_BYTES = abc``) names the file and the key."""
    value = label.get(key, default) if default is not None else _require(label, key, path)
    number = value.value if isinstance(value, pvl.Quantity) else value  # units (<BYTES>) dropped
    if isinstance(number, bool) or not isinstance(number, int | str):
        raise Pds3Error(f"{path}: PDS3 label value {key} = {value!r} is not an integer")
    try:
        return int(number)
    except ValueError:
        raise Pds3Error(f"{path}: PDS3 label value {key} = {value!r} is not an integer") from None


def _image_layout(label: Mapping[str, Any], path: Path) -> tuple[int, int, int, int]:
    """(byte offset of the image, lines, samples, bytes per sample) from the label."""
    image = _require(label, "IMAGE", path)
    pointer = _require(label, "^IMAGE", path)
    if isinstance(pointer, str | list):  # "FILE.IMG" or ("FILE.IMG", record): detached data
        name = pointer if isinstance(pointer, str) else pointer[0]
        raise Pds3Error(f"{path}: ^IMAGE points to another file {name!r}; expected attached data")
    if isinstance(pointer, pvl.Quantity) and str(pointer.units).upper() == "BYTES":  # byte offset, 1-based
        offset = _int(label, "^IMAGE", path) - 1
    else:  # record number, 1-based
        offset = (_int(label, "^IMAGE", path) - 1) * _int(label, "RECORD_BYTES", path)
    if _int(image, "BANDS", path, default=1) != 1:
        raise Pds3Error(f"{path}: {image.get('BANDS')} bands; a HazCam EDR has one")
    lines, samples = _int(image, "LINES", path), _int(image, "LINE_SAMPLES", path)
    return offset, lines, samples, _int(image, "SAMPLE_BITS", path) // 8


def _check_complete(label: Mapping[str, Any], path: Path) -> None:
    """Raise if the label's byte layout does not fit the file: truncated, or a wrong RECORD_BYTES.

    A wrong record length (``RECORD_BYTES = 1024`` on a 2048-byte-record EDR) moves the image offset
    into the label, and GDAL then reads a shifted picture without complaint; so the layout is checked
    three ways: the image must start after the label text, a fixed-length file must be exactly
    RECORD_BYTES x FILE_RECORDS long, and the file must hold the whole image.
    """
    offset, lines, samples, nbytes = _image_layout(label, path)
    expected = offset + lines * samples * nbytes
    actual = path.stat().st_size
    label_bytes = len(_label_text(path))
    record_bytes, file_records = label.get("RECORD_BYTES"), label.get("FILE_RECORDS")
    records = f"RECORD_BYTES = {record_bytes}"
    if offset < label_bytes:
        raise Pds3LayoutError(
            f"{path}: label layout does not match the file: with {records} and ^IMAGE = "
            f"{label['^IMAGE']} the image would start at byte {offset}, inside the {label_bytes}-byte label"
        )
    fixed = str(label.get("RECORD_TYPE", "")).upper() == "FIXED_LENGTH"
    counted = isinstance(record_bytes, int) and isinstance(file_records, int)
    if fixed and counted and record_bytes * file_records != actual and actual >= expected:
        raise Pds3LayoutError(
            f"{path}: label layout does not match the file: {records} x FILE_RECORDS = "
            f"{file_records} is {record_bytes * file_records} bytes, but the file has {actual}"
        )
    if actual < expected:
        raise Pds3Error(
            f"{path}: truncated: the label promises a {lines} x {samples} image ending at byte "
            f"{expected}, but the file has {actual} bytes"
        )


def _frame(label: Mapping[str, Any], path: Path) -> EdrFrame:
    try:
        return EdrFrame(
            path=path,
            product_id=str(label.get("PRODUCT_ID", path.stem)),
            sol=int(_require(label, "PLANET_DAY_NUMBER", path)),
            local_true_solar_time=str(_require(label, "LOCAL_TRUE_SOLAR_TIME", path)),
            sclk_start=float(_require(label, "SPACECRAFT_CLOCK_START_COUNT", path)),
            instrument_id=str(_require(label, "INSTRUMENT_ID", path)),
            instrument_name=str(label.get("INSTRUMENT_NAME", label["INSTRUMENT_ID"])),
            start_time=str(label.get("START_TIME", "")),
        )
    except Pds3Error:
        raise
    except (TypeError, ValueError) as exc:
        raise Pds3Error(f"{path}: malformed PDS3 label value: {exc}") from exc


def read_frame(path: str | Path) -> EdrFrame:
    """The label facts of one EDR, after checking that the file holds the whole image."""
    path = Path(path)
    label = read_label(path)
    _check_complete(label, path)
    return _frame(label, path)


# ---------------------------------------------------------------------------------------------- image


def stretch_12bit(
    counts: np.ndarray, valid: np.ndarray, percentiles: tuple[float, float] = STRETCH_PERCENTILES
) -> np.ndarray:
    """Map raw counts to float32 [0, 1] by clipping at per-frame percentiles of the valid pixels.

    Why not a fixed ``/ 4095``: HazCam exposures are auto-exposed and use a frame-dependent slice of
    the 12-bit range (the sample's medians are ~900 of 4095), so a fixed scale gives dark, low-contrast
    frames whose brightness jumps between frames. The colouriser learnt L from display-stretched
    colour JPEGs, so each frame is stretched the same way: the 0.5th..99.5th percentiles of valid
    pixels (missing/invalid constants excluded) go to 0..1, which also ignores a few hot or saturated
    pixels. Invalid pixels become 0.
    """
    values = counts[valid]
    if values.size == 0:
        return np.zeros(counts.shape, np.float32)
    lo, hi = np.percentile(values, percentiles)
    if hi <= lo:  # a flat frame: avoid dividing by zero
        hi = lo + 1.0
    out = np.clip((counts.astype(np.float32) - np.float32(lo)) / np.float32(hi - lo), 0.0, 1.0)
    out[~valid] = 0.0
    return out.astype(np.float32)


def read_edr(
    path: str | Path, percentiles: tuple[float, float] = STRETCH_PERCENTILES
) -> tuple[np.ndarray, EdrFrame]:
    """Read one EDR: an (H, W) float32 image in [0, 1] (robust stretch) and its label facts.

    The pixels are read by GDAL's PDS driver (rasterio), which honours the label's byte order and
    offsets; missing pixels are those equal to the label's MISSING_CONSTANT / INVALID_CONSTANT.
    """
    path = Path(path)
    label = read_label(path)
    _check_complete(label, path)
    frame = _frame(label, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                counts = src.read(1)
    except RasterioIOError as exc:
        raise Pds3Error(f"{path}: GDAL cannot read the image: {exc}") from exc
    image = label["IMAGE"]
    valid = counts >= 0
    for key in ("MISSING_CONSTANT", "INVALID_CONSTANT"):
        if isinstance(image.get(key), int | float):
            valid &= counts != image[key]
    return stretch_12bit(counts, valid, percentiles), frame


def list_frames(folder: str | Path) -> list[EdrFrame]:
    """Every EDR (``*.IMG``) in ``folder``, checked complete, ordered by spacecraft clock.

    The spacecraft clock is the one monotonic time stamp in the label (sol plus local solar time
    would also do, but breaks ties less reliably); product ID breaks exact ties.
    """
    folder = Path(folder)
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.upper() == ".IMG")
    if not paths:
        raise Pds3Error(f"{folder}: no *.IMG EDR files")
    frames = [read_frame(p) for p in paths]
    return sorted(frames, key=lambda f: (f.sclk_start, f.product_id))
