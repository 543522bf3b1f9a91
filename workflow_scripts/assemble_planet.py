"""Snakemake adapter: assemble the rendered regions into the global mosaic (areograph.render.planet)."""

from areograph.logs import log_to
from areograph.render.planet import assemble_planet

with log_to(snakemake.log[0]):
    p = snakemake.params
    assemble_planet(list(snakemake.input), snakemake.output[0], gsd_m=p.gsd_m, feather_m=p.feather_m)
