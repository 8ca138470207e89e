SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=

# Run apt-get through sudo only when we are not root.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: venv dot chromium test test-browser test-peer quality demo notebooks bench bench-lr lint format

## venv: (internal) create .venv and install the project with its test extras
venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

## dot: make sure Graphviz's `dot` is on PATH (installs Debian's graphviz if not)
dot:
	@if ! command -v dot >/dev/null 2>&1; then \
		echo "dot not found; installing graphviz with apt-get"; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y graphviz; \
		command -v dot >/dev/null; \
	fi

## chromium: make sure Debian's `chromium` is on PATH (installs it with apt-get if not)
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "chromium not found; installing Debian's chromium with apt-get"; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		command -v chromium >/dev/null; \
	fi

# The browser extra (Playwright's Python package, JupyterLab); no `playwright install`:
# the tests drive Debian's chromium.
BROWSER_STAMP := $(VENV)/.installed-browser
$(BROWSER_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[test,browser]'
	touch $@

## test-browser: JobMonitor in JupyterLab in headless Chromium (PYTEST_ARGS=...)
test-browser: venv dot chromium $(BROWSER_STAMP)
	$(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# FATE's own client, fate-client from PyPI, in one virtual environment per version under .peer/.
# Each is installed with --no-deps plus tests/peer/requirements-<version>.txt (why: in that
# file); the stamp is rewritten only when the install finished, so an interrupted build is redone.
PEER := .peer
PEER_VERSIONS := 1.5.3 1.11.3
PEER_STAMPS := $(foreach v,$(PEER_VERSIONS),$(PEER)/fate-client-$(v)/.installed)

$(PEER)/fate-client-%/.installed: tests/peer/requirements-%.txt
	rm -rf $(PEER)/fate-client-$*
	$(PYTHON) -m venv $(PEER)/fate-client-$*
	$(PEER)/fate-client-$*/bin/python -m pip install --quiet --no-deps fate-client==$*
	$(PEER)/fate-client-$*/bin/python -m pip install --quiet -r $<
	touch $@

## test-peer: FATE's flow CLI, flow_sdk and pipeline (fate-client 1.5.3, 1.11.3) against a server
test-peer: venv dot $(PEER_STAMPS)
	$(BIN)/python -m pytest tests/peer $(PYTEST_ARGS)

## test: formatting check, lint, then tests/ and every notebook under nbval (PYTEST_ARGS=...)
test: venv dot
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## quality: the slow quality tests only (HeteroLR on default_credit; extra args: PYTEST_ARGS=...)
quality: venv dot
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

## demo: FATE's hetero-LR job on breast from a fresh server, then the quickstart notebook
demo: venv dot
	$(BIN)/python -m fate_nb.demo

## notebooks: re-execute every notebook against a fresh server, save its outputs (NOTEBOOKS=...)
NOTEBOOKS ?=
notebooks: venv dot
	$(BIN)/python notebooks/execute.py $(NOTEBOOKS)

## bench: upload throughput / memory benchmark (extra args: BENCH_ARGS=...)
bench: venv
	$(BIN)/python bench/upload.py $(BENCH_ARGS)

## bench-lr: HeteroLR seconds per iteration and AUC, breast and default_credit (BENCH_ARGS=...)
bench-lr: venv
	$(BIN)/python bench/hetero_lr.py $(BENCH_ARGS)

## lint: check formatting and lint without changing anything
lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

## format: apply ruff's formatter and safe lint fixes
format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
