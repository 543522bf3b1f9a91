# Rover colourisation track: colour frames (NASA raw-image APIs / labelled MSL set / sample) -> quality
# filter -> LAB patches -> colourisers; greyscale Opportunity HazCam EDRs (PDS / sample) -> colourised
# 5 FPS video, with the shipped weights when rovers.colouriser.weights is set.
ROVERS = config["rovers"]
COMPARE = ROVERS.get("compare") or {}
SHIPPED_COLOURISER = ROVERS["colouriser"].get("weights")
# A relative weights path that is not there is the repository's own (so any --directory finds it).
if (
    SHIPPED_COLOURISER
    and not Path(SHIPPED_COLOURISER).is_absolute()
    and not Path(SHIPPED_COLOURISER).exists()
):
    SHIPPED_COLOURISER = str(Path(workflow.basedir) / SHIPPED_COLOURISER)


wildcard_constraints:
    collection="|".join(COLLECTIONS),
    variant="|".join(COMPARE) or "NO_VARIANT",


# Other colour sets scored as scenery sources beside the val split ({group name: collection folder}).
EVAL_SETS = ROVERS.get("eval_sets") or {}
# Every colouriser this config trains: method name -> its folder under results/models/.
TRAINED_COLOUR_DIRS = {
    "colouriser": "colouriser",
    "baseline": "colour_baseline",
    **{v: f"colouriser_{v}" for v in COMPARE},
}
COLOUR_MODELS = {
    m: f"{model_dir(RESULTS, d)}/{MODEL_FILE}" for m, d in TRAINED_COLOUR_DIRS.items()
}
# Evaluation suites as for the terrain (common.smk TERRAIN_SUITES): the default run scores the shipped
# colouriser beside the mean-colour and greyscale baselines (colour); `snakemake train` scores the
# colourisers trained here beside it (colour_trained). Without shipped weights both are of trained models.
SHIPPED_COLOUR = {"shipped": SHIPPED_COLOURISER} if SHIPPED_COLOURISER else {}
COLOUR_SUITES = {
    "colour": SHIPPED_COLOUR or COLOUR_MODELS,
    "colour_trained": COLOUR_MODELS | SHIPPED_COLOUR,
}
# Which trained model ship_colouriser packages: "colouriser", "baseline" or a `compare` variant.
SHIP_METHOD = ROVERS.get("ship", "colouriser")
if SHIP_METHOD not in ["colouriser", "baseline", *COMPARE]:
    raise ValueError(
        f"rovers.ship: {SHIP_METHOD!r} is not colouriser, baseline or a rovers.compare variant"
    )
# The benchmark of the training job that wrote it (its wall time goes on the model card).
SHIP_BENCHMARK = {
    "colouriser": benchmark_file(RESULTS, "train_colouriser"),
    "baseline": benchmark_file(RESULTS, "train_colour_baseline"),
}.get(SHIP_METHOD) or benchmark_file(RESULTS, "train_colour_variant", SHIP_METHOD)


rule fetch_collection:
    """Download (or copy from the sample) one rover image collection with its MANIFEST.csv."""
    output:
        directory(rover_collection()),
    log:
        f"{RESULTS}/logs/fetch_collection/{{collection}}.log",
    conda:
        "../envs/rovers.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        input_name=lambda w: COLLECTIONS[w.collection],
        source=lambda w: config["sources"][COLLECTIONS[w.collection]],
    script:
        "../workflow_scripts/fetch_collection.py"


rule filter_rover_colour:
    """Quality filter: drop blurred, empty, corrupt, greyscale and duplicate frames; one report row each."""
    input:
        rover_collection("colour"),
    output:
        kept=directory(KEPT_FRAMES),
        report=ROVER_PRODUCTS["quality_report"],
    log:
        f"{RESULTS}/logs/filter_rover_colour.log",
    benchmark:
        f"{RESULTS}/benchmarks/filter_rover_colour.tsv"
    conda:
        "../envs/rovers.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        quality=config["rovers"]["quality"],
    script:
        "../workflow_scripts/filter_rover_colour.py"


rule pack_colour_patches:
    """LAB patches (L -> ab) of the kept frames, train/validation split by sol."""
    input:
        KEPT_FRAMES,
    output:
        COLOUR_PATCHES_NPZ,
    log:
        f"{RESULTS}/logs/pack_colour_patches.log",
    benchmark:
        f"{RESULTS}/benchmarks/pack_colour_patches.tsv"
    conda:
        "../envs/rovers.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        patches=config["rovers"]["patches"],
    script:
        "../workflow_scripts/pack_colour_patches.py"


rule train_colouriser:
    """U-Net L -> ab colouriser (L1, optionally + PatchGAN) through the shared trainer."""
    input:
        COLOUR_PATCHES_NPZ,
    output:
        model_outputs("colouriser"),
    log:
        f"{RESULTS}/logs/train_colouriser.log",
    benchmark:
        benchmark_file(RESULTS, "train_colouriser")
    conda:
        "../envs/rovers.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        kind="colouriser",
        colouriser=config["rovers"]["colouriser"],
        baseline=config["rovers"]["baseline"],
        training=config["rovers"]["training"],
        sampling=ROVERS.get("sampling"),
    script:
        "../workflow_scripts/train_colour.py"


use rule train_colouriser as train_colour_variant with:
    output:
        model_outputs("colouriser_{variant}"),
    log:
        f"{RESULTS}/logs/train_colour_variant/{{variant}}.log",
    benchmark:
        benchmark_file(RESULTS, "train_colour_variant", "{variant}")
    params:
        kind="colouriser",
        colouriser=lambda w: ROVERS["colouriser"]
        | {
            k: v
            for k, v in COMPARE[w.variant].items()
            if k not in ("sampling", "training")
        },
        baseline=ROVERS["baseline"],
        training=lambda w: ROVERS["training"] | COMPARE[w.variant].get("training", {}),
        sampling=lambda w: COMPARE[w.variant].get("sampling", ROVERS.get("sampling")),


use rule train_colouriser as train_colour_baseline with:
    output:
        model_outputs("colour_baseline"),
    log:
        f"{RESULTS}/logs/train_colour_baseline.log",
    benchmark:
        benchmark_file(RESULTS, "train_colour_baseline")
    params:
        kind="baseline",
        colouriser=config["rovers"]["colouriser"],
        baseline=config["rovers"]["baseline"],
        training=config["rovers"]["training"],
        sampling=ROVERS.get("sampling"),


rule evaluate_colouriser:
    """Held-out CIEDE2000 / colourfulness / PSNR / SSIM of every method and two baselines, per group."""
    input:
        unpack(lambda w: COLOUR_SUITES[w.suite]),
        kept=KEPT_FRAMES,
        packed=COLOUR_PATCHES_NPZ,
        eval_sets=list(EVAL_SETS.values()),
    output:
        metrics=SUITE_EVAL["metrics"],
        examples=report(
            SUITE_EVAL["examples"],
            caption="../report/colour_examples.rst",
            category="Rover colouriser",
            labels={"figure": "held-out examples ({suite})"},
        ),
    log:
        f"{RESULTS}/logs/evaluate_colouriser/{{suite}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_colouriser/{{suite}}.tsv"
    wildcard_constraints:
        suite="|".join(COLOUR_SUITES),
    conda:
        "../envs/rovers.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        render=config["rovers"]["render"],
        n_examples=config["evaluation"].get("n_examples", 4),
        eval_sets=EVAL_SETS,
        quality=config["rovers"]["quality"],
    script:
        "../workflow_scripts/evaluate_colouriser.py"


rule colourise_opportunity:
    """Colourise every Opportunity HazCam EDR at full resolution (blended windows, own L kept)."""
    input:
        edrs=rover_collection("opportunity"),
        model=SHIPPED_COLOURISER or COLOUR_MODELS["colouriser"],
    output:
        directory(OPPORTUNITY_FRAMES),
    log:
        f"{RESULTS}/logs/colourise_opportunity.log",
    benchmark:
        f"{RESULTS}/benchmarks/colourise_opportunity.tsv"
    conda:
        "../envs/rovers.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        render=config["rovers"]["render"],
        stretch=config["rovers"]["edr"]["stretch_percentiles"],
    script:
        "../workflow_scripts/colourise_opportunity.py"


rule render_rover_video:
    """Captioned 5 FPS H.264 videos: colourised, and greyscale | colourised; plus a still."""
    input:
        frames=OPPORTUNITY_FRAMES,
        edrs=rover_collection("opportunity"),
    output:
        video=report(
            ROVER_PRODUCTS["video"],
            caption="../report/video.rst",
            category="Rover colouriser",
            labels={"figure": "Opportunity video"},
        ),
        side_by_side=report(
            ROVER_PRODUCTS["side_by_side"],
            caption="../report/video.rst",
            category="Rover colouriser",
            labels={"figure": "Opportunity video, greyscale | colourised"},
        ),
        still=report(
            ROVER_PRODUCTS["still"],
            caption="../report/still.rst",
            category="Rover colouriser",
            labels={"figure": "still"},
        ),
    log:
        f"{RESULTS}/logs/render_rover_video.log",
    benchmark:
        f"{RESULTS}/benchmarks/render_rover_video.tsv"
    conda:
        "../envs/rovers.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        fps=config["rovers"]["video"]["fps"],
        stretch=config["rovers"]["edr"]["stretch_percentiles"],
    script:
        "../workflow_scripts/render_rover_video.py"


rule ship_colouriser:
    """fp16 weights, validation metrics and a model card of the trained colouriser, for weights/colouriser/."""
    input:
        model=COLOUR_MODELS[SHIP_METHOD],
        metrics=eval_files(eval_dir(RESULTS, "colour_trained"))["metrics"],
    output:
        **shipped_files(ship_dir(RESULTS, "colouriser")),
    log:
        f"{RESULTS}/logs/ship_colouriser.log",
    conda:
        "../envs/rovers.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        source=config["sources"]["rover_colour"],
        rovers=ROVERS,
        method=SHIP_METHOD,
        benchmark=SHIP_BENCHMARK,
    script:
        "../workflow_scripts/ship_colouriser.py"
