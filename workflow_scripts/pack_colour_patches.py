"""Snakemake adapter: LAB patches split by sol (areograph.colourise.pack_colour_patches)."""

from areograph.colourise import pack_colour_patches
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    pack_colour_patches(snakemake.input[0], snakemake.output[0], snakemake.params.patches)
