"""Snakemake adapter: train pix2pix or the MSE baseline on Earth pairs (areograph.terraform.train_terrain)."""

from pathlib import Path

from areograph.logs import log_to
from areograph.terraform import train_terrain

with log_to(snakemake.log[0]):
    p = snakemake.params
    out_dir = Path(snakemake.output[0]).parent
    train_terrain(
        p.kind,
        snakemake.input[0],
        p.models,
        p.training,
        p.tile_px,
        p.elevation_range_m,
        out_dir,
        threads=snakemake.threads,
    )
