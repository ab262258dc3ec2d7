# Quickstart: `make run` executes the whole series, `make test` runs the unit tests and nbval.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= dev
STAMP  := $(VENV)/.installed-$(EXTRAS)
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 900
# Two pytest workers (pytest-xdist); loadscope keeps each notebook, whose cells share one kernel, and
# each test module on one worker. One worker's single-threaded stretches (kernel start, NumPy and
# scikit-learn work, figures) leave the cores to the other's training. XDIST= runs in one process.
XDIST ?= -n 2 --dist loadscope
# make audit: notebooks audited at once, each in its own kernel, for the same reason.
AUDIT_JOBS ?= 2

.PHONY: colab-links venv run test unit nbval audit lab browser-test lint format outputs timings bench clean help test-min nbval-rounding

help:
	@echo "make run      execute every notebook headless (profile: \$$AELIB_PROFILE, default full)"
	@echo "make test     unit tests + strict nbval over every notebook (profile quick)"
	@echo "make audit    run every notebook with training off: learned claims must fail"
	@echo "make nbval-rounding  strict nbval with oneDNN off (other rounding): claims must still hold"
	@echo "make lab      open JupyterLab on notebooks/"
	@echo "make browser-test  open every notebook in JupyterLab in headless Chromium (pre-release check)"
	@echo "make lint     ruff over the package, tests and notebooks"
	@echo "make outputs  re-execute the notebooks in place with the full profile (committed outputs)"
	@echo "make test-min unit tests + notebook 03 (quick) with every dependency at its declared floor"
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
		$(BIN)/python -m pytest $(XDIST) tests $(NBVAL) $(NOTEBOOKS)

unit: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) tests

nbval: $(STAMP)
	AELIB_PROFILE=quick AELIB_RESULTS_DIR=$(CURDIR)/.test-results \
		$(BIN)/python -m pytest $(XDIST) $(NBVAL) $(NOTEBOOKS)

audit: $(STAMP)
	$(BIN)/aelib audit --jobs $(AUDIT_JOBS)

# Strict nbval with TensorFlow's oneDNN kernels off: other floating-point rounding, the same claims.
nbval-rounding: $(STAMP)
	TF_ENABLE_ONEDNN_OPTS=0 $(MAKE) nbval

lab:
	$(MAKE) venv EXTRAS=dev,lab
	$(BIN)/jupyter lab notebooks/

# Needs Debian's Chromium and its driver (no driver is downloaded); screenshots go to .browser-test/.
browser-test:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { echo "browser-test needs Chromium and chromedriver: sudo apt-get install -y chromium chromium-driver" >&2; exit 1; }
	$(MAKE) venv EXTRAS=dev,browser
	$(BIN)/python tools/browser_test.py

lint: $(STAMP)
	$(BIN)/ruff check aelib tests notebooks benchmarks tools
	$(BIN)/ruff format --check aelib tests notebooks benchmarks tools

format: $(STAMP)
	$(BIN)/ruff format aelib tests notebooks benchmarks tools
	$(BIN)/ruff check --fix aelib tests notebooks benchmarks tools

RUNTIMES := benchmarks/runtimes.json

# The committed outputs and the records behind them (records/) come from the same full run;
# NB=01 (a name prefix) re-makes one notebook.
# constraints.txt pins the versions behind them: installed first, then checked.
outputs: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	$(BIN)/python tools/floors.py --verify constraints.txt
	AELIB_RESULTS_DIR=$(CURDIR)/records \
		$(BIN)/aelib run $(NB) --profile full --inplace --runtimes $(RUNTIMES)
	$(BIN)/python tools/readme_tables.py runtimes results --runtimes $(RUNTIMES)

timings: $(STAMP)
	AELIB_RESULTS_DIR=$(CURDIR)/.test-results \
		$(BIN)/aelib run --profile quick --runtimes $(RUNTIMES)
	$(BIN)/python tools/readme_tables.py runtimes --runtimes $(RUNTIMES)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python tools/readme_tables.py throughput

# A fork: `make colab-links REPO=https://github.com/OWNER/NAME` points every Colab badge and install
# line (and pyproject's Repository address) at it.
colab-links:
	@test -n "$(REPO)" || { echo "usage: make colab-links REPO=https://github.com/OWNER/NAME" >&2; exit 2; }
	$(PYTHON) tools/colab_links.py --repo $(REPO)

# The oldest versions pyproject.toml allows: every declared dependency (and the dev extra) at its
# `>=` floor (tools/floors.py writes the pins) in a venv of its own, where the unit tests and the
# quick profile of MIN_NOTEBOOKS must pass.
VENV_MIN ?= .venv-min
MIN_NOTEBOOKS ?= 03
test-min:
	@test -x $(VENV_MIN)/bin/python || { $(PYTHON) -m venv $(VENV_MIN) && \
		$(VENV_MIN)/bin/python -m pip install --quiet --upgrade pip; }
	$(VENV_MIN)/bin/python tools/floors.py > constraints-min.txt
	$(VENV_MIN)/bin/python -m pip install --quiet -c constraints-min.txt -e ".[dev]"
	$(VENV_MIN)/bin/python tools/floors.py --check
	$(VENV_MIN)/bin/python -m pytest $(XDIST) tests
	AELIB_RESULTS_DIR=$(CURDIR)/.test-results/min \
		$(VENV_MIN)/bin/aelib run $(MIN_NOTEBOOKS) --profile quick --no-progress

clean:
	rm -rf .test-results .pytest_cache build *.egg-info
