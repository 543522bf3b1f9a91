"""Opportunity HazCam EDRs from the PDS Imaging Node, selected from the volume's index table.

A PDS3 volume lists every product in a fixed-width ASCII index table (``index/edrindex.tab`` on the
MER camera volumes, ``INDEX.TAB`` on others) described by a detached label (``*.LBL``): one
``COLUMN`` object per field with its ``NAME``, ``START_BYTE`` (1-based) and ``BYTES``. We read the
label to find the columns, select rows by camera, eye, sol range and product type, download the
``.IMG`` files with the resilient downloader and write a MANIFEST.csv (``file,camera,sol,origin``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from areograph.download import (
    POLICY_OPTIONS,
    DownloadItem,
    download_file,
    download_many,
    get_bytes,
    policy_from_options,
    publish_files,
    redact,
)
from areograph.sources import Source, SourceError

log = logging.getLogger(__name__)

VOLUME_URL = "https://planetarydata.jpl.nasa.gov/img/data/mer/opportunity/mer1ho_0xxx/"
MANIFEST_HEADER = ("file", "camera", "sol", "origin")
REQUIRED = ("INSTRUMENT_ID", "PLANET_DAY_NUMBER", "PRODUCT_ID")


@dataclass(frozen=True)
class TableLayout:
    """Where each column of a fixed-width PDS3 table lives: name -> (0-based start, width)."""

    row_bytes: int
    columns: dict[str, tuple[int, int]]


def parse_table_label(text: str, source: str) -> TableLayout:
    """Read ROW_BYTES / RECORD_BYTES and the COLUMN objects of the first ``*TABLE`` object."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"[^"]*"', '""', text)  # descriptions may span lines; their content is not needed
    stack: list[str] = []
    top: dict[str, str] = {}
    table: dict[str, str] = {}
    columns: list[dict[str, str]] = []
    for line in text.splitlines():
        m = re.match(r"\s*(\^?[A-Z0-9_:]+)\s*=\s*(.*?)\s*$", line)
        if not m:
            if line.strip() == "END":
                break
            continue
        key, value = m.groups()
        if key == "OBJECT":
            stack.append(value)
            if value == "COLUMN" and len(stack) >= 2 and stack[-2].endswith("TABLE"):
                columns.append({})
        elif key == "END_OBJECT":
            if not stack:
                raise SourceError(f"{source}: unbalanced END_OBJECT = {value} in the PDS3 label")
            stack.pop()
        elif stack and stack[-1] == "COLUMN" and columns:
            columns[-1].setdefault(key, value)
        elif stack and stack[-1].endswith("TABLE"):
            table.setdefault(key, value)
        elif not stack:
            top.setdefault(key, value)
    row_bytes = table.get("ROW_BYTES") or top.get("RECORD_BYTES")
    if not columns or row_bytes is None:
        raise SourceError(f"{source}: no TABLE object with COLUMN objects and ROW_BYTES in the PDS3 label")
    layout: dict[str, tuple[int, int]] = {}
    for col in columns:
        try:
            layout[col["NAME"]] = (int(col["START_BYTE"]) - 1, int(col["BYTES"]))
        except (KeyError, ValueError):
            raise SourceError(f"{source}: a COLUMN lacks a NAME, START_BYTE or BYTES: {col}") from None
    return TableLayout(int(row_bytes), layout)


def read_rows(path: Path, layout: TableLayout, names: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """The requested columns of every row of a fixed-width table, quotes and padding stripped."""
    with open(path, "rb") as fh:
        n = 0
        while row := fh.read(layout.row_bytes):
            n += 1
            if len(row) < layout.row_bytes and not row.strip():
                break
            if len(row) < layout.row_bytes:
                raise SourceError(f"{path}: row {n} is truncated ({len(row)} of {layout.row_bytes} bytes)")
            text = row.decode("latin-1")
            out = {}
            for name in names:
                start, width = layout.columns[name]
                out[name] = text[start : start + width].strip().strip('"').strip()
            yield out


def product_path(row: dict[str, str], volume_url: str) -> str:
    """A product's path relative to the volume root, from FILE_SPECIFICATION_NAME or PATH_NAME + FILE_NAME.

    MER indexes give PATH_NAME with the volume's own folder first (``/mer1ho_0xxx/data/...``); that
    folder is the volume URL's last component and is dropped.
    """
    if row.get("FILE_SPECIFICATION_NAME"):
        return row["FILE_SPECIFICATION_NAME"].lstrip("/")
    parts = [p for p in row["PATH_NAME"].split("/") if p]
    volume_dir = urlsplit(volume_url).path.rstrip("/").rsplit("/", 1)[-1]
    if parts and parts[0].lower() == volume_dir.lower():
        parts = parts[1:]
    return "/".join([*parts, row["FILE_NAME"]])


def evenly_spaced(items: list[Any], n: int) -> list[Any]:
    """``n`` items spread over the whole list (first and last kept), so a cap still spans the mission."""
    if len(items) <= n:
        return items
    if n == 1:
        return items[:1]
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


class PdsSource(Source):
    """MER Opportunity HazCam EDRs (PDS Imaging Node volume ``mer1ho_0xxx``) for ``rover_grey``."""

    name: ClassVar[str] = "pds"
    inputs: ClassVar[frozenset[str]] = frozenset({"rover_grey"})
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "volume_url": {"type": "string", "pattern": "^https?://.*/$"},
            "index_table": {"type": "string", "minLength": 1},
            "index_label": {"type": "string", "minLength": 1},
            "camera": {"enum": ["FRONT_HAZCAM", "REAR_HAZCAM", "NAVCAM", "PANCAM"]},
            "eye": {"enum": ["L", "R", "both"]},
            "sol_min": {"type": "integer", "minimum": 0},
            "sol_max": {"type": "integer", "minimum": 0},
            "product_types": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "minItems": 1,
            },
            "max_images": {"type": "integer", "minimum": 1},
            **POLICY_OPTIONS,
        },
    }

    def select(self, rows: Iterator[dict[str, str]]) -> list[dict[str, str]]:
        """Rows of the configured camera/eye/sol range/product types, in spacecraft-clock order."""
        o = self.options
        camera = o.get("camera", "FRONT_HAZCAM")
        eyes = {"L": ("LEFT",), "R": ("RIGHT",), "both": ("LEFT", "RIGHT")}[o.get("eye", "L")]
        wanted = {f"{camera}_{e}" for e in eyes}
        sol_min, sol_max = int(o.get("sol_min", 0)), int(o.get("sol_max", 6000))
        types = set(o.get("product_types", ["EFF"]))
        chosen = []
        for row in rows:
            try:
                sol = int(row["PLANET_DAY_NUMBER"])
            except ValueError:
                continue
            pid = row["PRODUCT_ID"]
            if row["INSTRUMENT_ID"] in wanted and sol_min <= sol <= sol_max and pid[11:14] in types:
                chosen.append(row)
        chosen.sort(key=lambda r: r["PRODUCT_ID"][2:11])  # spacecraft clock
        return evenly_spaced(chosen, int(o.get("max_images", 200)))

    def fetch_collection(self, input_name: str, out_dir: Path) -> Path:
        """Read the volume index, select products, download the EDRs, write MANIFEST.csv."""
        if input_name not in self.inputs:
            return super().fetch_collection(input_name, out_dir)
        o = self.options
        out_dir = Path(out_dir)
        policy = policy_from_options(o)
        volume = o.get("volume_url", VOLUME_URL)
        label_url = urljoin(volume, o.get("index_label", "index/edrindex.lbl"))
        table_url = urljoin(volume, o.get("index_table", "index/edrindex.tab"))
        cache = out_dir.parent / f".{out_dir.name}.download"
        label_text = get_bytes(label_url, policy=policy).decode("latin-1")
        layout = parse_table_label(label_text, redact(label_url))
        has_spec = "FILE_SPECIFICATION_NAME" in layout.columns
        names = (*REQUIRED, *(("FILE_SPECIFICATION_NAME",) if has_spec else ("PATH_NAME", "FILE_NAME")))
        missing = [n for n in names if n not in layout.columns]
        if missing:
            raise SourceError(f"{redact(label_url)}: index table has no column(s) {missing}")
        table = download_file(table_url, cache / "index" / Path(urlsplit(table_url).path).name, policy=policy)
        rows = self.select(read_rows(table, layout, names))
        if not rows:
            what = f"{o.get('camera', 'FRONT_HAZCAM')} eye {o.get('eye', 'L')} products"
            raise SourceError(
                f"{redact(table_url)}: no {what} of types {o.get('product_types', ['EFF'])} "
                f"in sols {o.get('sol_min', 0)}..{o.get('sol_max', 6000)}"
            )
        items, manifest = [], []
        for row in rows:
            url = urljoin(volume, product_path(row, volume))
            local = Path(urlsplit(url).path).name.upper()  # the sample's names: 1F....IMG
            items.append(DownloadItem(url, cache / local))
            manifest.append((local, row["INSTRUMENT_ID"], int(row["PLANET_DAY_NUMBER"]), redact(url)))
        log.info("PDS %s: %d product(s) selected", redact(volume), len(items))
        download_many(items, policy=policy, desc="PDS EDRs")
        return publish_files([it.dest for it in items], out_dir, MANIFEST_HEADER, manifest)
