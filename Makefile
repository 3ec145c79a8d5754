# fraudmine — run `make help` for the targets.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
SCALE ?= s
SEED ?= 42
DATE ?= 2026-11-01
DATA ?= data/synth-$(SCALE)
OUT ?= out/$(SCALE)
PYTEST_ARGS ?=
# make test's workers (pytest-xdist, whole modules per worker); PYTEST_WORKERS=0 runs in one process
PYTEST_WORKERS ?= 2
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYSPARK_PYTHON := $(abspath $(BIN)/python)

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-heavy test-fast lint format bench contract features-doc clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, with the exact pin: a looser pin pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,embed]'
	touch $@

setup: $(BIN)/.installed ## create .venv and install the pinned dependencies (idempotent)

demo: setup ## generate the synthetic marketplace (SCALE=s), run the nightly pipeline, print how to query the API
	$(BIN)/fraudmine generate --scale $(SCALE) --seed $(SEED) --out $(DATA)
	$(BIN)/fraudmine nightly --input $(DATA)/raw --out $(OUT) --date $(DATE)
	$(BIN)/fraudmine evaluate --truth $(DATA)/truth --run $(OUT)/current
	$(BIN)/fraudmine kpis --run $(OUT)/current
	$(BIN)/fraudmine serve --out $(OUT) --example

test: setup ## run the test suite (Spark, pipeline, subprocess tests included; not the heavy tier)
	$(BIN)/python -m pytest -m "not heavy" -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-heavy: setup ## run the heavy tier: standalone cluster, kill -9 + resume, spark-submit, full recomputes (CI runs it)
	$(BIN)/python -m pytest -m heavy $(PYTEST_ARGS)

test-fast: setup ## run the tests not marked slow
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup ## ruff (lint + format check), mypy strict on every module, import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: setup ## apply ruff format and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## wall time and peak memory of generate + nightly (SCALES="xs s"); writes docs/benchmarks.md rows
	$(BIN)/python bench/bench_pipeline.py --scales $(or $(SCALES),xs s)

contract: setup ## regenerate docs/data-contract.md from the code
	$(BIN)/fraudmine contract > docs/data-contract.md

features-doc: setup ## regenerate docs/feature-dictionary.md from the code
	$(BIN)/python -m fraudmine.features.dictionary > docs/feature-dictionary.md

clean: ## remove generated data and outputs (keeps .venv)
	rm -rf data out
