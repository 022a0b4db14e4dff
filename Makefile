# hw4: thin wrappers around the scripts. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.stamp-requirements

.DEFAULT_GOAL := help
.PHONY: help setup homework test lint data starter submission check grade autograder report bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)  ## create/update .venv from requirements*.txt

homework: $(STAMP)  ## the main job: run every task of the homework
	$(PY) backprop/backprop.py
	$(PY) neuralnet/gradcheck_layers.py
	$(PY) neuralnet/check_softmax_stability.py
	$(PY) neuralnet/gradcheck_classifier.py

lint: $(STAMP)  ## ruff on the whole tree
	$(VENV)/bin/ruff check .

test: $(STAMP)  ## ruff + the pytest suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

clean:  ## remove caches and run outputs (keeps .venv and data)
	rm -rf results dist .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
