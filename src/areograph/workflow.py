"""Small helpers the Snakefile needs at parse time."""

from __future__ import annotations

import os
from pathlib import Path


def export_src_path(workflow_dir: str | Path) -> None:
    """Put ``<workflow>/src`` on PYTHONPATH so scripts run in conda envs or on cluster nodes import areograph.

    The venv installs the package editable; conda envs built from envs/*.yaml only carry its
    dependencies, so the package comes from the checkout itself.
    """
    src = str(Path(workflow_dir) / "src")
    current = os.environ.get("PYTHONPATH", "")
    if src not in current.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (src, current) if p)
