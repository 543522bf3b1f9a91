"""Snakemake adapter: held-out colour metrics and examples (areograph.evaluation.colour.evaluate_colour)."""

import torch

from areograph.config import window_override
from areograph.evaluation.colour import evaluate_colour
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    models = {name: path for name, path in i.items() if name not in ("kept", "packed", "eval_sets")}
    evaluate_colour(
        i.kept,
        i.packed,
        models,
        p.render["window_px"],
        p.render["overlap_px"],
        o.metrics,
        o.examples,
        p.n_examples,
        window_override(p.render),
        p.eval_sets,
        p.quality,
    )
