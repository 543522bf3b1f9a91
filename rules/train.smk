# Training and evaluation of the terraforming models (config terrain_models: pix2pix, an L1-only U-Net,
# the seed's MSE baseline, each with its own conditioning) through the one trainer, one job per model.
# GPU rules declare gpu=1 for cluster submission.


rule train_terrain:
    """One terrain model; resumes from results/models/terrain_<model>/checkpoints/latest.pt."""
    input:
        results("datasets", TERRAIN_PAIRS),
        # the weights a fine-tuning starts from (terrain_models.<model>.init_from), when set
        lambda w: RUN.init_from(w.model) or [],
    output:
        results("models/terrain_{model}", MODEL_FILE),
        results("models/terrain_{model}", LOSSES_CSV),
        loss_curve(results("models/terrain_{model}", LOSSES_PNG), "terrain_{model}"),
    log:
        results("logs/train_terrain/{model}.log"),
    benchmark:
        results("benchmarks/train_terrain/{model}.tsv")
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        kind=lambda w: config["terrain_models"][w.model]["kind"],
        conditioning=lambda w: config["terrain_models"][w.model]["conditioning"],
        # the model's own pix2pix keys, steps, lr, init_from over the shared sections; read here, not in a
        # helper, so test_dvc_share sees which config keys the rule reads (its DVC stage params)
        models=lambda w: config["models"]
        | {
            "pix2pix": config["models"]["pix2pix"]
            | config["terrain_models"][w.model]["pix2pix"]
        },
        training=lambda w: config["training"]
        | {
            k: v
            for k, v in config["terrain_models"][w.model].items()
            if k in ("steps", "lr", "lambda_spectral")
        }
        | ({"init_from": RUN.init_from(w.model)} if RUN.init_from(w.model) else {}),
        tile_px=config["tiles"]["size_px"],
        elevation_range_m=config["elevation"]["earth_range_m"],
    script:
        "../workflow_scripts/train_terrain.py"


rule evaluate_terrain:
    """Per validation region: L1 / PSNR / SSIM, texture, palette and 1.6 km land-cover distances of every
    terrain model of a suite (config.py RunPlan.terrain_suites) against constant colour and
    colour-by-elevation baselines.
    """
    input:
        packed=results("datasets", TERRAIN_PAIRS),
        models=lambda w: list(RUN.terrain_suites[w.suite].values()),
        held_out=[d for sets in held_out_tile_sets().values() for d in sets.values()],
    output:
        metrics=results("eval/{suite}", METRICS_JSON),
        examples=report(
            results("eval/{suite}", EXAMPLES_PNG),
            caption="../report/terrain_examples.rst",
            category="Terrain validation",
            labels={"region": "validation tiles ({suite})", "figure": "examples"},
        ),
        plot=report(
            results("eval/{suite}", METRICS_PNG),
            caption="../report/terrain_metrics_plot.rst",
            category="Metrics",
            labels={"track": "{suite}", "figure": "plot"},
        ),
    log:
        results("logs/evaluate_terrain/{suite}.log"),
    benchmark:
        results("benchmarks/evaluate_terrain/{suite}.tsv")
    wildcard_constraints:
        suite="|".join(RUN.terrain_suites),
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        names=lambda w: list(RUN.terrain_suites[w.suite]),
        elevation_range_m=config["elevation"]["earth_range_m"],
        n_examples=config["evaluation"]["n_examples"],
        held_out=held_out_tile_sets(),
        overlap_px=config["render"]["overlap_px"],
    script:
        "../workflow_scripts/evaluate_terrain.py"


rule compare_region:
    """A whole held-out region as a user sees it: elevation | real | rendered model | lookup (one PNG)."""
    input:
        elevation=results("tiles/{region}/elevation"),
        imagery=results("tiles/{region}/imagery"),
        water=results("tiles/{region}/water"),
        packed=results("datasets", TERRAIN_PAIRS),
        model=RUN.render_model_file,
    output:
        report(
            results("eval/terrain", REGION_FIGURE),
            caption="../report/held_out_region.rst",
            category="Terrain validation",
            labels={"region": "{region}", "figure": "held-out region"},
        ),
    log:
        results("logs/compare_region/{region}.log"),
    benchmark:
        results("benchmarks/compare_region/{region}.tsv")
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
