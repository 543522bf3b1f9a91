"""Snakemake adapter: fp16 weights + metrics + model card (areograph.ship.ship_colouriser)."""

from areograph.logs import log_to
from areograph.ship import ship_colouriser

with log_to(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    ship_colouriser(
        i.model, i.metrics, o.model, o.metrics, o.card, p.source, p.rovers, p.benchmark, p.method, i.packed
    )
