"""Snakemake adapter: one metrics JSON as an HTML table (areograph.metrics_table.write_metrics_table)."""

from areograph.logs import log_to
from areograph.metrics_table import write_metrics_table

with log_to(snakemake.log[0]):
    write_metrics_table(snakemake.input[0], snakemake.output[0], snakemake.params.title)
