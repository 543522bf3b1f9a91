"""Snakemake adapter: one held-out region side by side (areograph.evaluation.terrain.region_side_by_side)."""

import torch

from areograph.artefacts.tileset import region_raster
from areograph.config import window_override
from areograph.evaluation.terrain import region_side_by_side
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, p = snakemake.input, snakemake.params
    region_side_by_side(
        region_raster(i.elevation),
        region_raster(i.imagery),
        i.packed,
        i.model,
        p.render["window_px"],
        p.render["overlap_px"],
        snakemake.output[0],
        window_override=window_override(p.render),
        water_raster=region_raster(i.water),
    )
