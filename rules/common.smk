# Shared helpers for the rules: region lookups, target lists and input functions. No rules here.
from areograph.artefacts.mosaic import HYPSOMETRY, MOSAIC_FILES
from areograph.artefacts.evaluation import eval_files, region_figure
from areograph.artefacts.layout import benchmark_file, eval_dir, log_file
from areograph.artefacts.layout import model_dir, rovers_dir, ship_dir, datasets_dir
from areograph.artefacts.layout import raw_raster, raw_collection, tiles_dir, mosaic_dir
from areograph.artefacts.layout import (
    viewer_dir,
    kept_dir,
    frames_dir,
    terrain_model_name,
)
from areograph.artefacts.rovers import rover_files
from areograph.artefacts.shipped import shipped_files
from areograph.artefacts.model_dir import LOSSES_CSV, LOSSES_PNG, MODEL_FILE
from areograph.artefacts.packed import COLOUR_PATCHES, TERRAIN_PAIRS
from areograph.artefacts.viewer import VIEWER_PAGE
from areograph.config import region_source, regions, sea_level_for
from areograph.geo.planet import planet_plan
from areograph.workflow import export_src_path

RESULTS = config.get("results_dir", "results")
# Scripts run in a fresh interpreter (or a conda env): let them import the package from src/.
export_src_path(workflow.basedir)
# The packed training sets (artefacts/packed.py): packing writes them, training and evaluation read them.
TERRAIN_PAIRS_NPZ = f"{datasets_dir(RESULTS)}/{TERRAIN_PAIRS}"
COLOUR_PATCHES_NPZ = f"{datasets_dir(RESULTS)}/{COLOUR_PATCHES}"
# The rover folders (artefacts/layout.py): fetched collections, kept frames, colourised frames.
KEPT_FRAMES = str(kept_dir(RESULTS))
OPPORTUNITY_FRAMES = str(frames_dir(RESULTS))
# The evaluation folders and the rover products, by role (artefacts/evaluation.py, artefacts/rovers.py).
TERRAIN_EVAL = eval_files(eval_dir(RESULTS, "terrain"))
# The held-out regions' figures, with the {region} wildcard (rule compare_region).
TERRAIN_REGION_FIGURE = region_figure(eval_dir(RESULTS, "terrain"), "{region}")
COLOUR_EVAL = eval_files(eval_dir(RESULTS, "colour"))
# Any evaluation suite's files, with the {suite} wildcard (rules evaluate_terrain, evaluate_colouriser).
SUITE_EVAL = eval_files(eval_dir(RESULTS, "{suite}"))
ROVER_PRODUCTS = rover_files(rovers_dir(RESULTS))

REGIONS = {r["name"]: r for r in config["regions"]}
# Whole Mars: the planned regions join REGIONS (fetched, tiled and rendered by the same rules), but
# only the planet target asks for them.
PLANET = planet_plan(config)
PLANET_REGIONS = [r["name"] for r in PLANET.regions] if PLANET else []
PLANET_MOSAIC = f"{mosaic_dir(RESULTS, 'planet')}/terraformed_mars.tif"  # beside the regions (the DVC render stage)
REGIONS |= {r["name"]: r for r in PLANET.regions} if PLANET else {}
EARTH = [r["name"] for r in regions(config, "earth")]
# Whole Earth regions held out of training: each gets a side-by-side picture.
HELD_OUT = [r["name"] for r in regions(config, "earth") if r["split"] == "val"]
MARS = [r["name"] for r in regions(config, "mars")]
# The run's Mars heights as one distribution (artefacts.mosaic): every Mars region, and with planet
# enabled every planned one, maps its heights through it, so neighbours share one height map.
HYPSOMETRY_REGIONS = MARS + [n for n in PLANET_REGIONS if n not in MARS]
MARS_HYPSOMETRY = f"{RESULTS}/mars/{HYPSOMETRY}"
TERRAIN_MODELS = config["terrain_models"]
# Shipped generator weights (render.weights): what the Mars mosaics are rendered with when set.
SHIPPED = config["render"].get("weights")  # rovers.smk has its own SHIPPED_COLOURISER
# A relative weights path that is not here is the repository's own (as config validation looked it up).
if SHIPPED and not Path(SHIPPED).is_absolute() and not Path(SHIPPED).exists():
    SHIPPED = str(Path(workflow.basedir) / SHIPPED)
# The terrain models this config trains (rule train_terrain), by name.
TRAINED_TERRAIN = {
    m: f"{model_dir(RESULTS, terrain_model_name(m))}/{MODEL_FILE}"
    for m in TERRAIN_MODELS
}
# Evaluation suites (results/eval/<suite>/), each {method: model file}, scored beside the baselines that
# need no training. The default run (suite terrain) evaluates the shipped weights and trains nothing;
# `snakemake train` trains the demo models and scores them beside the shipped weights (terrain_trained).
# Without shipped weights the default run evaluates, and so trains, the demo models.
TERRAIN_SUITES = {
    "terrain": {"shipped": SHIPPED} if SHIPPED else TRAINED_TERRAIN,
    "terrain_trained": TRAINED_TERRAIN | ({"shipped": SHIPPED} if SHIPPED else {}),
}


wildcard_constraints:
    region="|".join(REGIONS) or "NO_REGION",
    layer="elevation|imagery|water",
    model="|".join(TERRAIN_MODELS),


def input_name(wildcards):
    """The config source input (earth_elevation, ...) for a region's layer."""
    return f"{REGIONS[wildcards.region]['planet']}_{wildcards.layer}"


def sea_raster(wildcards):
    """An Earth region's water raster, for its elevation layer (the sea goes in at 0 m); else nothing."""
    if (
        wildcards.layer == "elevation"
        and REGIONS[wildcards.region]["planet"] == "earth"
    ):
        return [raw(wildcards.region, "water")]
    return []


def raw(region="{region}", layer="{layer}"):
    """A fetched region raster (wildcards by default)."""
    return str(raw_raster(RESULTS, region, layer))


def tiles(region="{region}", layer="{layer}"):
    """A region's tile set folder (wildcards by default)."""
    return str(tiles_dir(RESULTS, region, layer))


def mosaic(role, region="{region}"):
    """One product of a rendered Mars region, by its MOSAIC_FILES role."""
    return f"{mosaic_dir(RESULTS, region)}/{MOSAIC_FILES[role]}"


def viewer(region="{region}"):
    """A region's map viewer folder."""
    return str(viewer_dir(RESULTS, region))


def rover_collection(name="{collection}"):
    """A fetched rover collection folder."""
    return str(raw_collection(RESULTS, name))


def tiles_dirs(layer, names):
    return [tiles(name, layer) for name in names]


HELD_OUT_LAYERS = ("elevation", "imagery", "water")


def held_out_tile_sets():
    """Every whole held-out region's tile sets: {region: {layer: folder}}."""
    return {
        name: {layer: tiles(name, layer) for layer in HELD_OUT_LAYERS}
        for name in HELD_OUT
    }


def render_model_file():
    """The generator the Mars mosaics are rendered with: the shipped weights, else render.model."""
    model = config["render"].get("model", "pix2pix")
    return SHIPPED or f"{model_dir(RESULTS, terrain_model_name(model))}/{MODEL_FILE}"


def viewer_inputs(wildcards):
    """Mars: the terraformed mosaic over its elevation; Earth: elevation, real imagery and the model."""
    region = wildcards.region
    elevation = tiles(region, "elevation")
    if REGIONS[region]["planet"] == "mars":
        return {
            "elevation": elevation,
            "mosaic": mosaic("tif", region),
        }
    return {
        "elevation": elevation,
        "imagery": tiles(region, "imagery"),
        "water": tiles(region, "water"),
        "model": render_model_file(),
    }


def render_inputs(wildcards):
    """A Mars region's elevation tiles and the model; the packed Earth pairs only for a model trained here.

    Shipped weights carry the quantiles of their own training elevations (the Mars ``quantile`` rule's
    reference), so rendering with them needs no Earth data: a Mars-only target fetches nothing of Earth.
    """
    inputs = {
        "elevation": tiles(wildcards.region, "elevation"),
        "hypsometry": MARS_HYPSOMETRY,
        "model": render_model_file(),
    }
    return inputs if SHIPPED else inputs | {"packed": TERRAIN_PAIRS_NPZ}


def terrain_targets():
    out = [
        TERRAIN_EVAL["metrics"],
        TERRAIN_EVAL["examples"],
        TERRAIN_EVAL["plot"],
        *expand(TERRAIN_REGION_FIGURE, region=HELD_OUT),
        TERRAIN_EVAL["table"],
        *[viewer(name) for name in MARS + HELD_OUT],
    ]
    for name in MARS:
        out += [mosaic(role, name) for role in MOSAIC_FILES]
    return out


COLLECTIONS = {"colour": "rover_colour", "opportunity": "rover_grey"}


def model_outputs(name):
    """Files every training rule writes into results/models/<name>/ (the loss curve goes in the report)."""
    folder = model_dir(RESULTS, name)
    curve = report(
        f"{folder}/{LOSSES_PNG}",
        caption="../report/losses.rst",
        category="Training",
        labels={"model": name, "figure": "losses"},
    )
    return [f"{folder}/{MODEL_FILE}", f"{folder}/{LOSSES_CSV}", curve]


def rover_targets():
    return [
        ROVER_PRODUCTS["quality_report"],
        COLOUR_EVAL["metrics"],
        COLOUR_EVAL["table"],
        COLOUR_EVAL["examples"],
        ROVER_PRODUCTS["video"],
        ROVER_PRODUCTS["side_by_side"],
        ROVER_PRODUCTS["still"],
    ]


def planet_targets():
    """The whole-Mars mosaic when planet.enabled (``snakemake planet``; also part of ``all``)."""
    return [PLANET_MOSAIC] if PLANET else []


def planet_region_tifs(wildcards):
    if not PLANET:
        raise ValueError("the planet target needs planet.enabled: true in the config")
    return [mosaic("tif", name) for name in PLANET_REGIONS]


def all_targets():
    return terrain_targets() + rover_targets() + planet_targets()


def eval_targets(suite, roles=("metrics", "examples", "plot", "table")):
    files = eval_files(eval_dir(RESULTS, suite))
    return [files[role] for role in roles]


def train_targets():
    """``snakemake train``: every demo model trained on the sample (files and loss curves), scored."""
    out = [f for m in TERRAIN_MODELS for f in model_outputs(terrain_model_name(m))]
    out += [f for name in TRAINED_COLOUR_DIRS.values() for f in model_outputs(name)]
    out += eval_targets("terrain_trained")
    out += eval_targets("colour_trained", ("metrics", "examples", "table"))
    return out
