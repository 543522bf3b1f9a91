# Rover colourisation track: colour frames (NASA raw-image APIs / labelled MSL set / sample) -> quality
# filter -> LAB patches -> colourisers; greyscale Opportunity HazCam EDRs (PDS / sample) -> colourised
# 5 FPS video, with the shipped weights when rovers.colouriser.weights is set. The colour methods, the
# evaluation suites and the shipped method are config.py RunPlan's (RUN.colour_dirs, RUN.colour_suites,
# RUN.ship_method).
ROVERS = config["rovers"]
# The two fetched collections: {collection wildcard: config sources key}.
COLLECTIONS = {"colour": "rover_colour", "opportunity": "rover_grey"}


wildcard_constraints:
    collection="|".join(COLLECTIONS),
    variant="|".join(RUN.compare) or "NO_VARIANT",


rule fetch_collection:
    """Download (or copy from the sample) one rover image collection with its MANIFEST.csv."""
    output:
        directory(results("raw/rovers/{collection}")),
    log:
        results("logs/fetch_collection/{collection}.log"),
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
        results("raw/rovers/colour"),
    output:
        kept=directory(results("rovers/kept")),
        report=results("rovers", ROVER_FILES["quality_report"]),
    log:
        results("logs/filter_rover_colour.log"),
    benchmark:
        results("benchmarks/filter_rover_colour.tsv")
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
        results("rovers/kept"),
    output:
        results("datasets", COLOUR_PATCHES),
    log:
        results("logs/pack_colour_patches.log"),
    benchmark:
        results("benchmarks/pack_colour_patches.tsv")
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
        results("datasets", COLOUR_PATCHES),
    output:
        results("models/colouriser", MODEL_FILE),
        results("models/colouriser", LOSSES_CSV),
        loss_curve(results("models/colouriser", LOSSES_PNG), "colouriser"),
    log:
        results("logs/train_colouriser.log"),
    benchmark:
        results("benchmarks/train_colouriser.tsv")
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
        sampling=ROVERS["sampling"],
    script:
        "../workflow_scripts/train_colour.py"


# A rovers.compare variant: its keys over rovers.colouriser (its sampling and training over theirs).
use rule train_colouriser as train_colour_variant with:
    output:
        results("models/colouriser_{variant}", MODEL_FILE),
        results("models/colouriser_{variant}", LOSSES_CSV),
        loss_curve(
            results("models/colouriser_{variant}", LOSSES_PNG), "colouriser_{variant}"
        ),
    log:
        results("logs/train_colour_variant/{variant}.log"),
    benchmark:
        results("benchmarks/train_colour_variant/{variant}.tsv")
    params:
        colouriser=lambda w: colour_method_settings(ROVERS, w.variant)["colouriser"],
        training=lambda w: colour_method_settings(ROVERS, w.variant)["training"],
        sampling=lambda w: colour_method_settings(ROVERS, w.variant)["sampling"],


use rule train_colouriser as train_colour_baseline with:
    output:
        results("models/colour_baseline", MODEL_FILE),
        results("models/colour_baseline", LOSSES_CSV),
        loss_curve(results("models/colour_baseline", LOSSES_PNG), "colour_baseline"),
    log:
        results("logs/train_colour_baseline.log"),
    benchmark:
        results("benchmarks/train_colour_baseline.tsv")
    params:
        kind="baseline",


rule evaluate_colouriser:
    """Held-out CIEDE2000 / colourfulness / PSNR / SSIM of every method and two baselines, per group."""
    input:
        unpack(lambda w: RUN.colour_suites[w.suite]),
        kept=results("rovers/kept"),
        packed=results("datasets", COLOUR_PATCHES),
        eval_sets=list(RUN.eval_sets.values()),
    output:
        metrics=results("eval/{suite}", METRICS_JSON),
        examples=report(
            results("eval/{suite}", EXAMPLES_PNG),
            caption="../report/colour_examples.rst",
            category="Rover colouriser",
            labels={"figure": "held-out examples ({suite})"},
        ),
    log:
        results("logs/evaluate_colouriser/{suite}.log"),
    benchmark:
        results("benchmarks/evaluate_colouriser/{suite}.tsv")
    wildcard_constraints:
        suite="|".join(RUN.colour_suites),
    conda:
        "../envs/rovers.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        render=config["rovers"]["render"],
        n_examples=config["evaluation"]["n_examples"],
        eval_sets=RUN.eval_sets,
        quality=config["rovers"]["quality"],
    script:
        "../workflow_scripts/evaluate_colouriser.py"


rule colourise_opportunity:
    """Colourise every Opportunity HazCam EDR at full resolution (blended windows, own L kept)."""
    input:
        edrs=results("raw/rovers/opportunity"),
        model=RUN.opportunity_model_file,
    output:
        directory(results("rovers/frames")),
    log:
        results("logs/colourise_opportunity.log"),
    benchmark:
        results("benchmarks/colourise_opportunity.tsv")
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
        frames=results("rovers/frames"),
        edrs=results("raw/rovers/opportunity"),
    output:
        video=report(
            results("rovers", ROVER_FILES["video"]),
            caption="../report/video.rst",
            category="Rover colouriser",
            labels={"figure": "Opportunity video"},
        ),
        side_by_side=report(
            results("rovers", ROVER_FILES["side_by_side"]),
            caption="../report/video.rst",
            category="Rover colouriser",
            labels={"figure": "Opportunity video, greyscale | colourised"},
        ),
        still=report(
            results("rovers", ROVER_FILES["still"]),
            caption="../report/still.rst",
            category="Rover colouriser",
            labels={"figure": "still"},
        ),
    log:
        results("logs/render_rover_video.log"),
    benchmark:
        results("benchmarks/render_rover_video.tsv")
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
        model=RUN.trained_colour[RUN.ship_method],
        metrics=results("eval/colour_trained", METRICS_JSON),
        packed=results("datasets", COLOUR_PATCHES),
    output:
        **{role: results("ship/colouriser", f) for role, f in SHIPPED_FILES.items()},
    log:
        results("logs/ship_colouriser.log"),
    conda:
        "../envs/rovers.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        source=config["sources"]["rover_colour"],
        rovers=ROVERS,
        method=RUN.ship_method,
        # the benchmark of the job that trained it (its wall time goes on the model card)
        benchmark=ship_benchmark(),
    script:
        "../workflow_scripts/ship_colouriser.py"
