"""Snakemake adapter: colourise the Opportunity EDRs (areograph.colourise.colourise_edrs)."""

import torch

from areograph.colourise import colourise_edrs
from areograph.config import window_override
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, p = snakemake.input, snakemake.params
    colourise_edrs(
        i.edrs,
        i.model,
        p.render["window_px"],
        p.render["overlap_px"],
        snakemake.output[0],
        p.stretch,
        p.render.get("chroma_side_px"),
        window_override(p.render),
    )
