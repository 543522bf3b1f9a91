"""Snakemake adapter: terraform one Mars region (areograph.render.mosaic.render_mars_from_pack)."""

import torch

from areograph.artefacts.tileset import region_raster
from areograph.config import window_override
from areograph.logs import log_to
from areograph.render.mosaic import render_mars_from_pack

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    render_mars_from_pack(
        i.packed,
        region_raster=region_raster(i.elevation),
        model_path=i.model,
        elevation_range_m=p.elevation["earth_range_m"],
        mars_rule=p.elevation["mars_rule"],
        window_px=p.render["window_px"],
        overlap_px=p.render["overlap_px"],
        batch_size=p.render.get("batch_size", 8),
        window_override=window_override(p.render),
        sea_level_m=p.sea_level_m,
        hypsometry=i.hypsometry,
        out_tif=o.tif,
        out_quicklook=o.quicklook,
        out_side_by_side=o.side_by_side,
        out_footprint=o.footprint,
    )
