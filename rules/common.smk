# Shared helpers for the rules: region lookups, target lists and input functions. No rules here.
from areograph.config import regions
from areograph.workflow import export_src_path

RESULTS = config.get(
    "workdir_results", "results"
)  # a second config (configs/) keeps its own
# Scripts run in a fresh interpreter (or a conda env): let them import the package from src/.
export_src_path(workflow.basedir)

REGIONS = {r["name"]: r for r in config["regions"]}
EARTH = [r["name"] for r in regions(config, "earth")]
MARS = [r["name"] for r in regions(config, "mars")]
# Layers each planet's regions have, and the source input feeding each.
LAYERS = {"earth": ["elevation", "imagery"], "mars": ["elevation"]}


wildcard_constraints:
    region="|".join(REGIONS) or "NO_REGION",
    layer="elevation|imagery",


def input_name(wildcards):
    """The config source input (earth_elevation, ...) for a region's layer."""
    return f"{REGIONS[wildcards.region]['planet']}_{wildcards.layer}"


def tiles_dirs(layer, names):
    return expand(f"{RESULTS}/tiles/{{region}}/{layer}", region=names)


def terrain_targets():
    out = [
        f"{RESULTS}/eval/terrain/metrics.json",
        f"{RESULTS}/eval/terrain/examples.png",
    ]
    for name in MARS:
        out += expand(
            f"{RESULTS}/mars/{name}/{{f}}",
            f=["terraformed.tif", "quicklook.png", "side_by_side.png"],
        )
    return out


COLLECTIONS = {"colour": "rover_colour", "opportunity": "rover_grey"}


def model_outputs(name):
    """Files every training rule writes into results/models/<name>/."""
    return multiext(f"{RESULTS}/models/{name}/", "model.pt", "losses.csv", "losses.png")


def rover_targets():
    return [
        f"{RESULTS}/rovers/quality_report.csv",
        f"{RESULTS}/eval/colour/metrics.json",
        f"{RESULTS}/eval/colour/examples.png",
        f"{RESULTS}/rovers/opportunity_colour.mp4",
        f"{RESULTS}/rovers/opportunity_side_by_side.mp4",
        f"{RESULTS}/rovers/still.png",
    ]


def all_targets():
    return terrain_targets() + rover_targets()
