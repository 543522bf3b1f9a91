# Shared by the rules: the run's decisions (config.py RunPlan), the results() path helper, target lists
# and input functions. No rules here, and no paths: each rule spells its own files as templates.
from areograph.artefacts.evaluation import (
    EXAMPLES_PNG,
    METRICS_HTML,
    METRICS_JSON,
    METRICS_PNG,
    REGION_FIGURE,
)
from areograph.artefacts.model_dir import LOSSES_CSV, LOSSES_PNG, MODEL_FILE
from areograph.artefacts.mosaic import HYPSOMETRY, MOSAIC_FILES, PLANET_MOSAIC
from areograph.artefacts.packed import COLOUR_PATCHES, TERRAIN_PAIRS
from areograph.artefacts.rovers import ROVER_FILES
from areograph.artefacts.shipped import SHIPPED_FILES
from areograph.artefacts.viewer import VIEWER_PAGE
from areograph.config import (
    colour_method_settings,
    region_source,
    run_plan,
    sea_level_for,
)
from areograph.workflow import export_src_path

# Scripts run in a fresh interpreter (or a conda env): let them import the package from src/.
export_src_path(workflow.basedir)
# Every decision the rules take from the config (regions by planet and split, shipped weights,
# evaluation suites, colour methods, the lazily planned planet), typed and validated in config.py.
RUN = run_plan(config, workflow.basedir)
RESULTS = RUN.results


def results(*parts):
    """A path in the run's results folder (config results_dir, default results/), parts joined by "/".

    Rules write their files as templates, folder first, the file name from its artefact contract:
    ``results("models/terrain_{model}", MODEL_FILE)`` is results/models/terrain_{model}/model.pt.
    """
    return "/".join([RESULTS, *parts])


wildcard_constraints:
    region=RUN.region_pattern,
    layer="elevation|imagery|water",
    model="|".join(config["terrain_models"]),


def input_name(wildcards):
    """The config source input (earth_elevation, ...) for a region's layer."""
    return f"{RUN.region(wildcards.region)['planet']}_{wildcards.layer}"


def sea_raster(wildcards):
    """An Earth region's water raster, for its elevation layer (the sea goes in at 0 m); else nothing."""
    if (
        wildcards.layer == "elevation"
        and RUN.region(wildcards.region)["planet"] == "earth"
    ):
        return [results(f"raw/{wildcards.region}/water.tif")]
    return []


HELD_OUT_LAYERS = ("elevation", "imagery", "water")


def held_out_tile_sets():
    """Every whole held-out region's tile sets: {region: {layer: folder}}."""
    return {
        name: {layer: results(f"tiles/{name}/{layer}") for layer in HELD_OUT_LAYERS}
        for name in RUN.held_out
    }


def viewer_inputs(wildcards):
    """Mars: the terraformed mosaic over its elevation; Earth: elevation, real imagery and the model."""
    region = wildcards.region
    elevation = results(f"tiles/{region}/elevation")
    if RUN.region(region)["planet"] == "mars":
        return {
            "elevation": elevation,
            "mosaic": results(f"mars/{region}", MOSAIC_FILES["tif"]),
        }
    return {
        "elevation": elevation,
        "imagery": results(f"tiles/{region}/imagery"),
        "water": results(f"tiles/{region}/water"),
        "model": RUN.render_model_file,
    }


def render_inputs(wildcards):
    """A Mars region's elevation tiles and the model; the packed Earth pairs only for a model trained here.

    Shipped weights carry the quantiles of their own training elevations (the Mars ``quantile`` rule's
    reference), so rendering with them needs no Earth data: a Mars-only target fetches nothing of Earth.
    """
    inputs = {
        "elevation": results(f"tiles/{wildcards.region}/elevation"),
        "hypsometry": results("mars", HYPSOMETRY),
        "model": RUN.render_model_file,
    }
    if RUN.terrain_weights:
        return inputs
    return inputs | {"packed": results("datasets", TERRAIN_PAIRS)}


def loss_curve(path, name):
    """A training rule's loss plot, marked for the report."""
    return report(
        path,
        caption="../report/losses.rst",
        category="Training",
        labels={"model": name, "figure": "losses"},
    )


def ship_benchmark():
    """The benchmark file of the job (a rule above) that trained RUN.ship_method."""
    trained_by = {
        "colouriser": rules.train_colouriser,
        "baseline": rules.train_colour_baseline,
    }
    trainer = trained_by.get(RUN.ship_method, rules.train_colour_variant)
    return Path(str(trainer.benchmark).format(variant=RUN.ship_method))


# --- targets: what `all`, `terrain`, `train` and `planet` ask for ------------------------------------


def terrain_targets():
    terrain = results("eval/terrain")
    out = [f"{terrain}/{name}" for name in (METRICS_JSON, EXAMPLES_PNG, METRICS_PNG)]
    out += expand(f"{terrain}/{REGION_FIGURE}", region=RUN.held_out)
    out += [f"{terrain}/{METRICS_HTML}"]
    out += [results(f"viewer/{name}") for name in RUN.mars + RUN.held_out]
    for name in RUN.mars:
        out += [results(f"mars/{name}", file) for file in MOSAIC_FILES.values()]
    return out


def rover_targets():
    colour = results("eval/colour")
    return [
        results("rovers", ROVER_FILES["quality_report"]),
        f"{colour}/{METRICS_JSON}",
        f"{colour}/{METRICS_HTML}",
        f"{colour}/{EXAMPLES_PNG}",
        *(
            results("rovers", ROVER_FILES[r])
            for r in ("video", "side_by_side", "still")
        ),
    ]


def planet_targets():
    """The whole-Mars mosaic when planet.enabled (``snakemake planet``; also part of ``all``)."""
    return [results("mars/planet", PLANET_MOSAIC)] if RUN.planet_enabled else []


def all_targets():
    return terrain_targets() + rover_targets() + planet_targets()


def train_targets():
    """``snakemake train``: every demo model trained on the sample (files and loss curves), scored."""
    folders = [f"terrain_{m}" for m in config["terrain_models"]]
    folders += list(RUN.colour_dirs.values())
    out = [
        results(f"models/{folder}", file)
        for folder in folders
        for file in (MODEL_FILE, LOSSES_CSV, LOSSES_PNG)
    ]
    out += [
        results("eval/terrain_trained", file)
        for file in (METRICS_JSON, EXAMPLES_PNG, METRICS_PNG, METRICS_HTML)
    ]
    out += [
        results("eval/colour_trained", file)
        for file in (METRICS_JSON, EXAMPLES_PNG, METRICS_HTML)
    ]
    return out
