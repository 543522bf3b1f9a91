"""Snakemake adapter: terraform one Mars region (areograph.render.mosaic.render_mars[_from_pack])."""

from functools import partial

import torch

from areograph.artefacts.tileset import region_raster
from areograph.config import window_override
from areograph.logs import log_to
from areograph.render.mosaic import render_mars, render_mars_from_pack

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    packed = getattr(i, "packed", None)  # None: shipped weights carry their own Earth reference
    own = partial(render_mars, earth_reference_m=None)
    render = partial(render_mars_from_pack, packed) if packed else own
    render(
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
        precision=p.render.get("precision", "auto"),
        out_tif=o.tif,
        out_quicklook=o.quicklook,
        out_side_by_side=o.side_by_side,
        out_footprint=o.footprint,
    )
