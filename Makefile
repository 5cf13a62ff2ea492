# pmo-maturity: the two commands (see README.md).
#   make demo   creates .venv, installs the kit and runs the sample engagement end to end
#   make test   creates .venv if needed and runs the whole suite
# The kit is (re)installed into .venv only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
KIT := $(VENV)/.installed-kit
TEST := $(VENV)/.installed-test
LAB := $(VENV)/.installed-lab

.PHONY: help demo test test-fast lab bench clean

help:
	@echo "make demo   run the sample engagement end to end (creates .venv on first run)"
	@echo "make test   run the whole test suite (pytest, nbval, browser check)"
	@echo "make test-fast  the fast tier while you work: pytest -m 'not slow' (under a minute)"
	@echo "make lab    start JupyterLab on the project's environment"
	@echo "make bench  run the benchmarks under bench/ (slow, by hand: about 15 minutes)"
	@echo "make clean  remove .venv and generated outputs"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pmo-maturity needs Python 3.11 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	-$(PIP) install --quiet --upgrade pip

$(KIT): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	@touch $@

$(TEST): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[test]'
	@touch $@ $(KIT)

$(LAB): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[lab]'
	@touch $@

demo: $(KIT)
	$(BIN)/pmo-maturity demo

test: $(TEST)
	$(BIN)/python -m pytest

test-fast: $(TEST)
	$(BIN)/python -m pytest -m "not slow"

lab: $(LAB)
	$(BIN)/jupyter lab notebooks/

bench: $(TEST)
	$(BIN)/python bench/score_bench.py
	$(BIN)/python bench/batch_bench.py

clean:
	rm -rf $(VENV)
	find outputs -mindepth 1 ! -name README.md -exec rm -rf {} +
