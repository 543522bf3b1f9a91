"""Snakemake adapter: train the colouriser or its baseline (areograph.colourise.train_colour).

One process per GPU the rule is given (resources gpu=N > 1 starts torchrun; see areograph.training.launch).
"""

from pathlib import Path

from areograph.colourise import train_colour
from areograph.logs import log_to
from areograph.training.launch import launch, processes_for

with log_to(snakemake.log[0]):
    p = snakemake.params
    n = processes_for(snakemake.resources.get("gpu", 0))
    launch(
        n,
        train_colour,
        p.kind,
        snakemake.input[0],
        p.colouriser,
        p.baseline,
        p.training,
        Path(snakemake.output[0]).parent,
        threads=max(1, snakemake.threads // n),
        sampling=p.sampling,
    )
