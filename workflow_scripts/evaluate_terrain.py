"""Snakemake adapter: validation metrics and example grid (areograph.terraform.evaluate_terrain)."""

from areograph.logs import log_to
from areograph.terraform import evaluate_terrain

with log_to(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    evaluate_terrain(
        i.packed,
        {"pix2pix": i.pix2pix, "baseline": i.baseline},
        p.elevation_range_m,
        o.metrics,
        o.examples,
        p.n_examples,
    )
