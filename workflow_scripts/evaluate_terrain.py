"""Snakemake adapter: per-region validation metrics, example grid and plot (areograph.evaluation.terrain)."""

from areograph.evaluation.terrain import evaluate_terrain
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    evaluate_terrain(
        i.packed,
        dict(zip(p.names, i.models, strict=True)),
        p.elevation_range_m,
        o.metrics,
        o.examples,
        o.plot,
        p.n_examples,
        whole_regions=p.held_out,  # the same folders as the rule's held_out input
        overlap_px=p.overlap_px,
    )
