"""Snakemake adapter: fetch one raster layer of one region (areograph.terraform.fetch_region_raster)."""

from areograph.logs import log_to
from areograph.terraform import fetch_region_raster

with log_to(snakemake.log[0]):
    p = snakemake.params
    fetch_region_raster(p.input_name, p.region, p.tiles, p.source, snakemake.output[0])
