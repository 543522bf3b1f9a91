# Training and evaluation of the terraforming models (config terrain_models: pix2pix, an L1-only U-Net,
# the seed's MSE baseline, each with its own conditioning) through the one trainer, one job per model.
# GPU rules declare gpu=1 for cluster submission.


rule train_terrain:
    """One terrain model; resumes from results/models/terrain_<model>/checkpoints/latest.pt."""
    input:
        TERRAIN_PAIRS_NPZ,
    output:
        model_outputs(terrain_model_name("{model}")),
    log:
        log_file(RESULTS, "train_terrain", "{model}"),
    benchmark:
        benchmark_file(RESULTS, "train_terrain", "{model}")
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        kind=lambda w: TERRAIN_MODELS[w.model]["kind"],
        conditioning=lambda w: TERRAIN_MODELS[w.model].get(
            "conditioning", ["elevation"]
        ),
        models=lambda w: config["models"]
        | {
            "pix2pix": config["models"]["pix2pix"]
            | TERRAIN_MODELS[w.model].get("pix2pix", {})
        },
        training=lambda w: config["training"]
        | {k: v for k, v in TERRAIN_MODELS[w.model].items() if k == "steps"},
        tile_px=config["tiles"]["size_px"],
        elevation_range_m=config["elevation"]["earth_range_m"],
    script:
        "../workflow_scripts/train_terrain.py"


rule evaluate_terrain:
    """Per validation region: L1 / PSNR / SSIM, texture, palette and 1.6 km land-cover distances of every
    terrain model of a suite (TERRAIN_SUITES) against constant colour and colour-by-elevation baselines.
    """
    input:
        packed=TERRAIN_PAIRS_NPZ,
        models=lambda w: list(TERRAIN_SUITES[w.suite].values()),
        held_out=[d for sets in held_out_tile_sets().values() for d in sets.values()],
    output:
        metrics=SUITE_EVAL["metrics"],
        examples=report(
            SUITE_EVAL["examples"],
            caption="../report/terrain_examples.rst",
            category="Terrain validation",
            labels={"region": "validation tiles ({suite})", "figure": "examples"},
        ),
        plot=report(
            SUITE_EVAL["plot"],
            caption="../report/terrain_metrics_plot.rst",
            category="Metrics",
            labels={"track": "{suite}", "figure": "plot"},
        ),
    log:
        f"{RESULTS}/logs/evaluate_terrain/{{suite}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_terrain/{{suite}}.tsv"
    wildcard_constraints:
        suite="|".join(TERRAIN_SUITES),
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        names=lambda w: list(TERRAIN_SUITES[w.suite]),
        elevation_range_m=config["elevation"]["earth_range_m"],
        n_examples=config["evaluation"].get("n_examples", 4),
        held_out=held_out_tile_sets(),
        overlap_px=config["render"]["overlap_px"],
    script:
        "../workflow_scripts/evaluate_terrain.py"


rule compare_region:
    """A whole held-out region as a user sees it: elevation | real | rendered model | lookup (one PNG)."""
    input:
        elevation=tiles(layer="elevation"),
        imagery=tiles(layer="imagery"),
        water=tiles(layer="water"),
        packed=TERRAIN_PAIRS_NPZ,
        model=render_model_file(),
    output:
        report(
            TERRAIN_REGION_FIGURE,
            caption="../report/held_out_region.rst",
            category="Terrain validation",
            labels={"region": "{region}", "figure": "held-out region"},
        ),
    log:
        f"{RESULTS}/logs/compare_region/{{region}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare_region/{{region}}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        render=config["render"],
    script:
        "../workflow_scripts/compare_region.py"
