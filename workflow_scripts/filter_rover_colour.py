"""Snakemake adapter: quality-filter the colour frames (areograph.colourise.filter_colour_frames)."""

from areograph.colourise import filter_colour_frames
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    o = snakemake.output
    filter_colour_frames(snakemake.input[0], o.kept, o.report, snakemake.params.quality)
