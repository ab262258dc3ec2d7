# Quickstart: `make run` executes the whole series, `make test` runs the unit tests and nbval.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= dev
STAMP  := $(VENV)/.installed-$(EXTRAS)
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 900

.PHONY: colab-links venv run test unit nbval audit lab lint format outputs timings bench clean help

help:
	@echo "make run      execute every notebook headless (profile: \$$AELIB_PROFILE, default full)"
	@echo "make test     unit tests + strict nbval over every notebook (profile quick)"
	@echo "make audit    run every notebook with training off: learned claims must fail"
	@echo "make lab      open JupyterLab on notebooks/"
	@echo "make lint     ruff over the package, tests and notebooks"
	@echo "make outputs  re-execute the notebooks in place with the full profile (committed outputs)"
	@echo "make timings  time every notebook with the quick profile (the README's run-time table)"
	@echo "make colab-links REPO=URL  point every Colab badge and install line at a fork"
	@echo "make bench    training throughput of the aelib models, into the README (not part of the tests)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/aelib run $(if $(AELIB_PROFILE),--profile $(AELIB_PROFILE),)

test: $(STAMP)
	AELIB_PROFILE=quick AELIB_RESULTS_DIR=$(CURDIR)/.test-results \
		$(BIN)/python -m pytest tests $(NBVAL) $(NOTEBOOKS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests

nbval: $(STAMP)
	AELIB_PROFILE=quick AELIB_RESULTS_DIR=$(CURDIR)/.test-results \
		$(BIN)/python -m pytest $(NBVAL) $(NOTEBOOKS)

audit: $(STAMP)
	$(BIN)/aelib audit

lab:
	$(MAKE) venv EXTRAS=dev,lab
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP)
	$(BIN)/ruff check aelib tests notebooks
	$(BIN)/ruff format --check aelib tests notebooks

format: $(STAMP)
	$(BIN)/ruff format aelib tests notebooks
	$(BIN)/ruff check --fix aelib tests notebooks

RUNTIMES := benchmarks/runtimes.json

# The committed outputs and the records behind them (records/) come from the same full run;
# NB=01 (a name prefix) re-makes one notebook.
outputs: $(STAMP)
	AELIB_RESULTS_DIR=$(CURDIR)/records \
		$(BIN)/aelib run $(NB) --profile full --inplace --runtimes $(RUNTIMES)
	$(BIN)/aelib runtimes $(RUNTIMES) --readme README.md
	$(BIN)/aelib results records --readme README.md

timings: $(STAMP)
	AELIB_RESULTS_DIR=$(CURDIR)/.test-results \
		$(BIN)/aelib run --profile quick --runtimes $(RUNTIMES)
	$(BIN)/aelib runtimes $(RUNTIMES) --readme README.md

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/bench.py --readme README.md

# A fork: `make colab-links REPO=https://github.com/OWNER/NAME` points every Colab badge and install
# line (and pyproject's Repository address) at it.
colab-links:
	@test -n "$(REPO)" || { echo "usage: make colab-links REPO=https://github.com/OWNER/NAME" >&2; exit 2; }
	$(PYTHON) tools/colab_links.py --repo $(REPO)

clean:
	rm -rf .test-results .pytest_cache build *.egg-info
