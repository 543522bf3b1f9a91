"""An evaluation folder (``results/eval/<track>/``, track ``terrain`` or ``colour``): figures and scores.

``metrics.json`` is what an evaluation writes (terrain_eval.py, colour_eval.py, through
evaluation.write_metrics_json) and what the report table (metrics_table.py, as ``metrics.html``) and
shipping (ship.py, a copy beside the shipped weights) read; ``examples.png`` is the example grid
(evaluation.example_grid); ``metrics.png`` the terrain track's bars per metric; ``regions/<region>.png``
a whole held-out Earth region side by side (terrain_eval.region_side_by_side). The colour track writes
no metric plot and no region figures.
"""

from __future__ import annotations

from pathlib import Path

from areograph.artefacts.roles import files_by_role

METRICS_JSON = "metrics.json"
EXAMPLES_PNG = "examples.png"
METRICS_PNG = "metrics.png"
METRICS_HTML = "metrics.html"
REGIONS_DIR = "regions"
# One figure per held-out region; ``{region}`` is the Snakemake wildcard (rule compare_region).
REGION_FIGURE = f"{REGIONS_DIR}/{{region}}.png"
EVAL_FILES = {
    "metrics": METRICS_JSON,
    "examples": EXAMPLES_PNG,
    "plot": METRICS_PNG,
    "table": METRICS_HTML,
}


def eval_files(eval_dir: Path | str) -> dict[str, Path]:
    """The files of an evaluation folder, by role (the keys of :data:`EVAL_FILES`)."""
    return files_by_role(eval_dir, EVAL_FILES)
