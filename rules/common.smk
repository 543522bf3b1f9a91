# Shared helpers for the rules: region lookups, target lists and input functions. No rules here.
from areograph.artefacts.mosaic import MOSAIC_FILES
from areograph.artefacts.model_dir import LOSSES_CSV, LOSSES_PNG, MODEL_FILE
from areograph.artefacts.packed import COLOUR_PATCHES, TERRAIN_PAIRS
from areograph.config import region_source, regions
from areograph.geo.planet import planet_plan
from areograph.workflow import export_src_path

RESULTS = config.get("results_dir", "results")
# Scripts run in a fresh interpreter (or a conda env): let them import the package from src/.
export_src_path(workflow.basedir)
# The packed training sets (artefacts/packed.py): packing writes them, training and evaluation read them.
TERRAIN_PAIRS_NPZ = f"{RESULTS}/datasets/{TERRAIN_PAIRS}"
COLOUR_PATCHES_NPZ = f"{RESULTS}/datasets/{COLOUR_PATCHES}"

REGIONS = {r["name"]: r for r in config["regions"]}
# Whole Mars: the planned regions join REGIONS (fetched, tiled and rendered by the same rules), but
# only the planet target asks for them.
PLANET = planet_plan(config)
PLANET_REGIONS = [r["name"] for r in PLANET.regions] if PLANET else []
PLANET_MOSAIC = f"{RESULTS}/mars/planet/terraformed_mars.tif"  # beside the regions (the DVC render stage)
REGIONS |= {r["name"]: r for r in PLANET.regions} if PLANET else {}
EARTH = [r["name"] for r in regions(config, "earth")]
# Whole Earth regions held out of training: each gets a side-by-side picture.
HELD_OUT = [r["name"] for r in regions(config, "earth") if r["split"] == "val"]
MARS = [r["name"] for r in regions(config, "mars")]
TERRAIN_MODELS = config["terrain_models"]
# Shipped generator weights (render.weights): what the Mars mosaics are rendered with when set. They are
# not re-evaluated here: their honest figures come from the held-out regions of their own config.
SHIPPED = config["render"].get("weights")  # rovers.smk has its own SHIPPED_COLOURISER


wildcard_constraints:
    region="|".join(REGIONS) or "NO_REGION",
    layer="elevation|imagery",
    model="|".join(TERRAIN_MODELS),


def input_name(wildcards):
    """The config source input (earth_elevation, ...) for a region's layer."""
    return f"{REGIONS[wildcards.region]['planet']}_{wildcards.layer}"


def tiles_dirs(layer, names):
    return expand(f"{RESULTS}/tiles/{{region}}/{layer}", region=names)


def terrain_model_files():
    """The model file of every terrain model this config trains (all are evaluated)."""
    return [f"{RESULTS}/models/terrain_{m}/{MODEL_FILE}" for m in TERRAIN_MODELS]


def render_model_file():
    """The generator the Mars mosaics are rendered with: the shipped weights, else render.model."""
    return (
        SHIPPED
        or f"{RESULTS}/models/terrain_{config['render'].get('model', 'pix2pix')}/{MODEL_FILE}"
    )


def viewer_inputs(wildcards):
    """Mars: the terraformed mosaic over its elevation; Earth: elevation, real imagery and the model."""
    region = wildcards.region
    elevation = f"{RESULTS}/tiles/{region}/elevation"
    if REGIONS[region]["planet"] == "mars":
        return {
            "elevation": elevation,
            "mosaic": f"{RESULTS}/mars/{region}/{MOSAIC_FILES['tif']}",
        }
    return {
        "elevation": elevation,
        "imagery": f"{RESULTS}/tiles/{region}/imagery",
        "model": render_model_file(),
    }


def terrain_targets():
    out = [
        f"{RESULTS}/eval/terrain/metrics.json",
        f"{RESULTS}/eval/terrain/examples.png",
        f"{RESULTS}/eval/terrain/metrics.png",
        *expand(f"{RESULTS}/eval/terrain/regions/{{region}}.png", region=HELD_OUT),
        f"{RESULTS}/eval/terrain/metrics.html",
        *expand(f"{RESULTS}/viewer/{{region}}", region=MARS + HELD_OUT),
    ]
    for name in MARS:
        out += expand(
            f"{RESULTS}/mars/{name}/{{f}}",
            f=list(MOSAIC_FILES.values()),
        )
    return out


COLLECTIONS = {"colour": "rover_colour", "opportunity": "rover_grey"}


def model_outputs(name):
    """Files every training rule writes into results/models/<name>/ (the loss curve goes in the report)."""
    folder = f"{RESULTS}/models/{name}"
    curve = report(
        f"{folder}/{LOSSES_PNG}",
        caption="../report/losses.rst",
        category="Training",
        labels={"model": name, "figure": "losses"},
    )
    return [f"{folder}/{MODEL_FILE}", f"{folder}/{LOSSES_CSV}", curve]


def rover_targets():
    return [
        f"{RESULTS}/rovers/quality_report.csv",
        f"{RESULTS}/eval/colour/metrics.json",
        f"{RESULTS}/eval/colour/metrics.html",
        f"{RESULTS}/eval/colour/examples.png",
        f"{RESULTS}/rovers/opportunity_colour.mp4",
        f"{RESULTS}/rovers/opportunity_side_by_side.mp4",
        f"{RESULTS}/rovers/still.png",
    ]


def planet_targets():
    """The whole-Mars mosaic when planet.enabled (``snakemake planet``; also part of ``all``)."""
    return [PLANET_MOSAIC] if PLANET else []


def planet_region_tifs(wildcards):
    if not PLANET:
        raise ValueError("the planet target needs planet.enabled: true in the config")
    return expand(
        f"{RESULTS}/mars/{{region}}/{MOSAIC_FILES['tif']}", region=PLANET_REGIONS
    )


def all_targets():
    return terrain_targets() + rover_targets() + planet_targets()
