"""Snakemake adapter: train the colouriser or its baseline (areograph.colourise.train_colour)."""

from pathlib import Path

from areograph.colourise import train_colour
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    p = snakemake.params
    train_colour(
        p.kind,
        snakemake.input[0],
        p.colouriser,
        p.baseline,
        p.training,
        Path(snakemake.output[0]).parent,
        threads=snakemake.threads,
    )
