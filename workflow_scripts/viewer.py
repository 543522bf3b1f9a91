"""Snakemake adapter: one region's map viewer (areograph.render.viewer.region_viewer)."""

import torch

from areograph.config import window_override
from areograph.logs import log_to
from areograph.render.viewer import region_viewer

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    region, render = snakemake.params.region, snakemake.params.render
    inputs, out = dict(snakemake.input), snakemake.output[0]
    region_viewer(region, inputs, render["window_px"], render["overlap_px"], out, window_override(render))
