"""Snakemake adapter: held-out colour metrics and examples (areograph.colourise.evaluate_colour)."""

import torch

from areograph.colourise import evaluate_colour
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    evaluate_colour(
        i.kept,
        i.packed,
        {"colouriser": i.colouriser, "baseline": i.baseline},
        p.render["window_px"],
        p.render["overlap_px"],
        o.metrics,
        o.examples,
        p.n_examples,
    )
