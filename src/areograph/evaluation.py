"""What both products' evaluations share: the metrics JSON write, matplotlib off-screen, saving a figure.

terrain_eval.py and colour_eval.py score different things (tiles of whole regions; rover frames by
class group) but publish them the same way: one metrics JSON and PNG figures, each written
atomically so a failed evaluation never leaves a half-written file that looks finished.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from areograph.atomic import atomic_path


def write_metrics_json(path: str | Path, metrics: Mapping[str, Any], indent: int = 2) -> Path:
    """Write ``metrics`` as indented JSON (NaN kept, as Python's json writes it) ending in a newline."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(metrics, indent=indent) + "\n")
    return Path(path)


def pyplot():
    """matplotlib.pyplot on the off-screen Agg backend (workflow jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, out_png: str | Path, dpi: int = 80) -> Path:
    """Save a matplotlib figure atomically and close it."""
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=dpi)
    pyplot().close(fig)
    return Path(out_png)
