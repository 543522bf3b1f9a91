"""Snakemake adapter: the run's Mars heights as one distribution (areograph.render.mosaic.mars_hypsometry)."""

from areograph.artefacts.tileset import region_raster
from areograph.logs import log_to
from areograph.render.mosaic import mars_hypsometry

with log_to(snakemake.log[0]):
    mars_hypsometry([region_raster(d) for d in snakemake.input], snakemake.output[0])
