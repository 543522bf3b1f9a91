"""Snakemake adapter: pair Earth tiles into one packed dataset (areograph.terraform.pack_terrain_pairs)."""

from areograph.logs import log_to
from areograph.terraform import pack_terrain_pairs

with log_to(snakemake.log[0]):
    i = snakemake.input
    pack_terrain_pairs(snakemake.params.regions, i.elevation, i.imagery, snakemake.output[0], i.water)
