# The two commands: `make demo` and `make test`. Each sets up what it needs first:
# system packages (PostgreSQL + PostGIS, python3-venv), a virtualenv in .venv, the package.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_SIZES ?= S,M

.PHONY: help system setup test test-slow demo bench lint clean distclean

help:
	@echo "make demo       set up and run the main job on the embedded PostGIS (hazards demo)"
	@echo "make test       set up and run the test suite against a real PostGIS"
	@echo "make test-slow  also run the tests marked slow"
	@echo "make bench      time each step beside its floor (BENCH_SIZES=S,M,L)"
	@echo "make lint       ruff (lint and format check) and mypy"
	@echo "make clean      remove build artefacts; make distclean also removes .venv and .hazards*"

system:
	@PYTHON=$(PYTHON) bash scripts/ensure-system.sh

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The package's bytecode, compiled as a regular pip install compiles it (an editable install
# does not, and with PYTHONDONTWRITEBYTECODE set every command would compile what it imports).
setup: system $(STAMP)
	@$(PY) -m compileall -q hazards

test: setup
	@PYTHON=$(PYTHON) bash scripts/ensure-system.sh --test
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: setup
	@PYTHON=$(PYTHON) bash scripts/ensure-system.sh --test
	$(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	$(VENV)/bin/hazards demo

bench: setup
	@command -v ogr2ogr >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq gdal-bin >/dev/null; } \
		|| echo "no ogr2ogr (Debian gdal-bin): road_load runs without its peer"
	$(PY) -m bench --sizes $(BENCH_SIZES)

lint: setup
	$(VENV)/bin/ruff check hazards tests bench
	$(VENV)/bin/ruff format --check hazards tests bench
	$(VENV)/bin/mypy hazards

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

distclean: clean
	-$(VENV)/bin/hazards db down 2>/dev/null
	-HAZARDS_HOME=.hazards-bench $(VENV)/bin/hazards db down 2>/dev/null
	-HAZARDS_HOME=.hazards-tour $(VENV)/bin/hazards db down 2>/dev/null
	rm -rf $(VENV) .hazards .hazards-test .hazards-bench .hazards-tour
