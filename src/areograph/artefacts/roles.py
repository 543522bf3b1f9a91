"""Folders whose files are named by role: one helper for the contracts that map role -> file name."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def files_by_role(folder: Path | str, names: Mapping[str, str]) -> dict[str, Path]:
    """``{role: folder / name}`` for a contract's ``{role: file name}`` table."""
    return {role: Path(folder) / name for role, name in names.items()}
