# Training and evaluation of the terraforming models: pix2pix (U-Net + PatchGAN, cGAN + L1) and the
# seed's MSE baseline, through the one trainer. GPU rules declare gpu=1 for cluster submission.


rule train_terrain:
    """pix2pix on the Earth pairs; resumes from results/models/terrain_pix2pix/checkpoints/latest.pt."""
    input:
        f"{RESULTS}/datasets/terrain_pairs.npz",
    output:
        model_outputs("terrain_pix2pix"),
    log:
        f"{RESULTS}/logs/train_terrain.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_terrain.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        kind="pix2pix",
        models=config["models"],
        training=config["training"],
        tile_px=config["tiles"]["size_px"],
        elevation_range_m=config["elevation"]["earth_range_m"],
    script:
        "../workflow_scripts/train_terrain.py"


use rule train_terrain as train_baseline with:
    output:
        model_outputs("terrain_baseline"),
    log:
        f"{RESULTS}/logs/train_baseline.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_baseline.tsv"
    params:
        kind="baseline",
        models=config["models"],
        training=config["training"],
        tile_px=config["tiles"]["size_px"],
        elevation_range_m=config["elevation"]["earth_range_m"],


rule evaluate_terrain:
    """Validation L1 / PSNR / SSIM: pix2pix vs the MSE baseline vs a colour-by-elevation lookup."""
    input:
        packed=f"{RESULTS}/datasets/terrain_pairs.npz",
        pix2pix=f"{RESULTS}/models/terrain_pix2pix/model.pt",
        baseline=f"{RESULTS}/models/terrain_baseline/model.pt",
    output:
        metrics=f"{RESULTS}/eval/terrain/metrics.json",
        examples=f"{RESULTS}/eval/terrain/examples.png",
    log:
        f"{RESULTS}/logs/evaluate_terrain.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_terrain.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        elevation_range_m=config["elevation"]["earth_range_m"],
        n_examples=config["evaluation"].get("n_examples", 4),
    script:
        "../workflow_scripts/evaluate_terrain.py"
