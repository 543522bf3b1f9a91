"""Snakemake adapter: fetch one rover image collection through its source adapter."""

from pathlib import Path

from areograph.logs import log_to
from areograph.sources import get_source

with log_to(snakemake.log[0]):
    p = snakemake.params
    get_source(p.source["adapter"], p.source.get("options")).fetch_collection(
        p.input_name, Path(snakemake.output[0])
    )
