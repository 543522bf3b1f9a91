# Two entry points for a fresh machine: `make run` (the offline sample, end to end) and `make test`.
# Both bootstrap .venv once; it is rebuilt only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: run train report test lint venv clean pull slurm-plugin train-terrain ship-terrain colouriser-weights

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,live]"
	touch $(STAMP)

# The default run renders and evaluates with the shipped weights (weights/): no training, a few minutes.
run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config.yaml

# The demo models trained on the sample (terrain_models, the colouriser and its baseline, about ten
# minutes on two cores) and evaluated beside the shipped weights in results/eval/*_trained/.
train: $(STAMP)
	$(BIN)/snakemake train --cores $(CORES) --configfile config.yaml

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow_scripts benchmarks
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint --cores 1

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf results logs .snakemake

# Retrain the shipped rover colouriser (weights/colouriser/) on the labelled MSL set in
# ../shared/corpora/msl-surface: about an hour on one CPU thread (see weights/colouriser/MODEL_CARD.md).
colouriser-weights: $(STAMP)
	$(BIN)/snakemake ship_colouriser --cores 1 --configfile configs/colouriser_msl.yaml
	mkdir -p weights/colouriser && cp results/msl/ship/colouriser/* weights/colouriser/

# Fetch what colleagues pushed to the DVC remote, then re-baseline Snakemake so that it reruns nothing
# that matches dvc.lock, and exactly what does not (docs/share.md). Conda users:
# make pull SNAKEMAKE_ARGS="--sdm conda" (the flags later snakemake runs use).
pull: $(STAMP)
	$(BIN)/dvc pull
	$(BIN)/python -m areograph.rebaseline -- $(SNAKEMAKE_ARGS)

# The SLURM executor plugin, kept out of .venv (it runs scontrol on import); see docs/cluster.md.
slurm-plugin: $(STAMP)
	tools/slurm/install-plugin.sh

# The shipped terraforming model (weights/terrain_pix2pix/MODEL_CARD.md): train every terrain model of
# configs/terrain_corpus.yaml on the seed's tile set (../shared/corpora or your clone, see the config),
# evaluate on the held-out regions, then copy fp16 weights + card + metrics into weights/.
TERRAIN_CFG ?= configs/terrain_corpus.yaml
train-terrain: $(STAMP)
	$(BIN)/snakemake terrain --cores $(CORES) \
		--set-threads train_terrain=1 --configfile $(TERRAIN_CFG)

ship-terrain: $(STAMP)
	$(BIN)/python -m areograph.ship $(TERRAIN_CFG) weights/terrain_pix2pix


# The run report (Snakemake's own): mosaics, side-by-sides, validation grids, loss curves, metric tables,
# the Opportunity video and a map viewer per region. A zip, because the viewers are folders; it is also
# unpacked into results/report/ (open results/report/report.html). See README "Report and viewer".
report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config.yaml
	$(BIN)/snakemake --configfile config.yaml --report results/report.zip
	rm -rf results/report && $(BIN)/python -m zipfile -e results/report.zip results/
