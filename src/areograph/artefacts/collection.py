"""A collection: image files in one folder plus ``MANIFEST.csv``, whose first column is ``file``.

Every rover source delivers this form, the quality filter keeps it, and packing reads it; this module
is the one place that knows the manifest's name and reads and writes it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

MANIFEST_NAME = "MANIFEST.csv"


def manifest_path(folder: Path) -> Path:
    """The manifest of the collection in ``folder``."""
    return Path(folder) / MANIFEST_NAME


def read_manifest(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a manifest; the first column must be ``file`` (errors name the file)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: manifest not found")
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or reader.fieldnames[0] != "file":
            raise ValueError(f"{path}: a manifest's first column must be 'file', got {reader.fieldnames}")
        return list(reader.fieldnames), list(reader)


def write_manifest(
    folder: Path, header: Sequence[str], rows: Iterable[Sequence[Any] | Mapping[str, Any]]
) -> Path:
    """Write ``folder/MANIFEST.csv`` from a header and rows (sequences, or mappings keyed by header).

    Callers write into the temporary folder of an ``atomic_dir``, so a collection is never published
    with half a manifest.
    """
    path = manifest_path(folder)
    with open(path, "w", newline="") as fh:
        rows = list(rows)
        if rows and isinstance(rows[0], Mapping):
            writer = csv.DictWriter(fh, fieldnames=list(header))
            writer.writeheader()
            writer.writerows(rows)
        else:
            plain = csv.writer(fh)
            plain.writerow(header)
            plain.writerows(rows)
    return path
