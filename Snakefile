"""areograph: terraformed Mars mosaics and colourised rover videos.

The Snakefile only validates the config and includes one rules file per phase; all logic lives in the
areograph package (src/areograph), called from thin adapters in workflow_scripts/.
"""

import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from areograph.config import validate_config  # noqa: E402


configfile: "config.yaml"


report: "report/workflow.rst"


# Relative paths in the config (the weights) are looked up here, then in the workflow's folder. The
# schema's defaults are filled in, so rules read config["a"]["b"] (config.py, config.schema.yaml).
config = validate_config(config, base_dirs=[Path.cwd(), Path(workflow.basedir)])


include: "rules/common.smk"
include: "rules/terrain.smk"
include: "rules/train.smk"
include: "rules/render.smk"
include: "rules/rovers.smk"
include: "rules/report.smk"
include: "rules/planet.smk"


localrules:
    all,
    terrain,
    train,
    planet,
    fetch_raster,
    fetch_collection,


rule all:
    default_target: True
    input:
        all_targets(),


rule terrain:
    """Only the terraforming product: validation metrics and pictures, Mars mosaics."""
    input:
        terrain_targets(),


rule train:
    """The demo models trained on the sample (terrain_models, the colouriser, its baseline and variants),
    with their loss curves, evaluated beside the shipped weights (results/eval/*_trained/).
    """
    input:
        train_targets(),


rule planet:
    """Whole Mars: every planned region rendered and assembled into one global COG (planet.enabled)."""
    input:
        results("mars/planet", PLANET_MOSAIC),
