"""Snakemake adapter: reproject and tile one region's layer (areograph.terraform.tile_region_inputs)."""

from areograph.logs import log_to
from areograph.terraform import tile_region_inputs

with log_to(snakemake.log[0]):
    p = snakemake.params
    i = snakemake.input
    sea = i.sea[0] if i.sea else None
    tile_region_inputs(p.region, p.tiles, {p.layer: i.raster}, {p.layer: snakemake.output[0]}, sea)
