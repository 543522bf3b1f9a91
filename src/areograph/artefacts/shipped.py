"""A shipped-weights folder (``weights/<product>/``, built in ``results/ship/<name>/``): what users get.

The fp16 model file (named like a model directory's, so ``load_generator`` reads either), the
validation metrics it was judged by (the evaluation's ``metrics.json``, copied) and ``MODEL_CARD.md``,
written from those figures so the card cannot drift from them. ship.py writes all three;
``areograph terraform`` / ``colourise`` and ``render.weights`` / ``rovers.colouriser.weights`` read the
model file.
"""

from __future__ import annotations

from pathlib import Path

from areograph.artefacts.evaluation import METRICS_JSON
from areograph.artefacts.model_dir import MODEL_FILE
from areograph.artefacts.roles import files_by_role

MODEL_CARD = "MODEL_CARD.md"
SHIPPED_FILES = {"model": MODEL_FILE, "metrics": METRICS_JSON, "card": MODEL_CARD}


def shipped_files(folder: Path | str) -> dict[str, Path]:
    """The files of a shipped-weights folder, by role (the keys of :data:`SHIPPED_FILES`)."""
    return files_by_role(folder, SHIPPED_FILES)
