"""Snakemake adapter: reproject and tile one region's layer (areograph.terraform.tile_region_inputs)."""

from areograph.logs import log_to
from areograph.terraform import tile_region_inputs

with log_to(snakemake.log[0]):
    p = snakemake.params
    tile_region_inputs(p.region, p.tiles, {p.layer: snakemake.input[0]}, {p.layer: snakemake.output[0]})
