"""Snakemake adapter: train one terrain model on the Earth pairs (areograph.terraform.train_terrain).

One process per GPU the rule is given (resources gpu=N > 1 starts torchrun; see areograph.training.launch).
"""

from pathlib import Path

from areograph.logs import log_to
from areograph.terraform import train_terrain
from areograph.training.launch import launch, processes_for

with log_to(snakemake.log[0]):
    p = snakemake.params
    n = processes_for(snakemake.resources.get("gpu", 0))
    launch(
        n,
        train_terrain,
        p.kind,
        snakemake.input[0],
        p.models,
        p.training,
        p.tile_px,
        p.elevation_range_m,
        Path(snakemake.output[0]).parent,
        threads=max(1, snakemake.threads // n),
        conditioning=p.conditioning,
    )
