"""Snakemake adapter: one metrics JSON as an HTML table (areograph.evaluation.tables.write_metrics_table)."""

from areograph.evaluation.tables import write_metrics_table
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    write_metrics_table(snakemake.input[0], snakemake.output[0], snakemake.params.title)
