# Newswire: `make run` sets up and stores the bundled sample feeds; `make test` sets up and runs
# every check. Both start from nothing on a fresh machine.
# The interpreter that creates .venv; the scripts get the venv's own as PYTHON.
BASE_PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PYTHON := $(PY)

.PHONY: help setup run run-forever services test lint typecheck unit integration e2e clean eval bench-extract

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s '	'

setup: $(STAMP)  ## create .venv and install Newswire with every service, spaCy for comparison and the dev tools

$(STAMP): pyproject.toml
	@$(BASE_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Newswire needs Python 3.11 or newer as $(BASE_PYTHON) (set BASE_PYTHON=...)"; exit 1; }
	$(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# torch first, pinned: any other requirement would pull a CUDA build of several gigabytes.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[ingest,extract,store,spacy,dev]"
	touch $(STAMP)

services: setup  ## make sure Redis answers (starting a local one if needed)
	@scripts/ensure-redis

run: setup services  ## poll the bundled sample feeds once, tag and store them in SQLite
	$(BIN)/newswire run --once --feeds samples/feeds.yaml
	@echo
	@echo "Done. To run continuously on the real outlets' feeds:  $(BIN)/newswire run --feeds feeds.yaml"
	@echo "Browse the data:  sqlite3 data/newswire.db 'select outlet, title from articles'"

run-forever: setup services  ## run continuously on the real feeds (Ctrl-C stops)
	$(BIN)/newswire run --feeds feeds.yaml

lint: setup
	$(BIN)/ruff check services tests
	$(BIN)/ruff format --check services tests

typecheck: setup
	$(BIN)/mypy

test: setup services  ## lint, types, unit, integration and end-to-end tests
	@scripts/ensure-postgres
	@scripts/ensure-promtool
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/pytest

unit: setup  ## only the tests that need no servers
	@scripts/ensure-promtool
	$(BIN)/pytest tests/unit

clean:  ## remove the virtual environment and local data
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache

# --- store (issue 5) ---
.PHONY: bench-store
bench-store: setup services  ## store: tagged articles/s into PostgreSQL and SQLite, batched vs one transaction each
	@scripts/ensure-postgres
	$(PY) bench/store/bench_store.py

# -- extract quality and speed (issue 4) ----------------------------------------------------------
eval: setup  ## score extraction on the gold set (tests/gold): P/R/F1 for linking, events, stories
	$(BIN)/newswire eval --gold tests/gold --json

bench-extract: setup  ## articles/s and peak memory per extract worker, per NER backend (a few minutes)
	$(BIN)/python -m bench.extract.run

# --- Newswire's own NER model (issue 7): see services/extract/models/newswire-ner/MODEL_CARD.md ---
NER_DATA ?= ../shared/data/ner
NER_MODEL := services/extract/models/newswire-ner
NER_BUILD := build/ner
# More options for train.py: `make train-ner NER_FLAGS=--no-btc` trains without the Broad Twitter Corpus.
NER_FLAGS ?=
.PHONY: train-ner eval-ner bench-ner

train-ner: setup  ## train Newswire's NER model on shared/data/ner + silver Myanmar data (CPU, ~25 min on 2 cores) and export it into the repo
	$(PY) -m pip install --quiet -e ".[ner-train]"
	$(PY) -m services.extract.ner_model.train --data $(NER_DATA) --out $(NER_BUILD)/checkpoint --seed 7 --epochs 4 --silver 300 $(NER_FLAGS)
	$(PY) -m services.extract.ner_model.export $(NER_BUILD)/checkpoint $(NER_MODEL) --work $(NER_BUILD)/onnx
	$(PY) -m services.extract.ner_model.evaluate --data $(NER_DATA) --split dev

eval-ner: setup  ## entity P/R/F1 per type, Newswire's model beside spaCy's small pipeline (GUM test, its news, gold articles)
	$(PY) -m services.extract.ner_model.evaluate --data $(NER_DATA) --gold tests/ner_gold

bench-ner: setup  ## articles/s, load time and memory of Newswire's model against spaCy's (2 threads)
	$(PY) bench/ner_speed.py --data $(NER_DATA) --threads 2

# --- ingest (issue 3) ---------------------------------------------------------------------------
.PHONY: bench-ingest
bench-ingest: setup services  ## ingest vs a sequential feedparser loop on 1,000 and 10,000 local feeds (last line: JSON)
	$(PY) bench/ingest_bench.py
