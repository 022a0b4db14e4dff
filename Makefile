# hw4: thin wrappers around the scripts. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.stamp-requirements

.DEFAULT_GOAL := help
.PHONY: help setup homework test lint data starter submission check grade grade-all autograder mistakes report bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt staff/grading/autograder/requirements-grader.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)  ## create/update .venv from requirements*.txt; installs staff/ and handin/

# make homework [SMOKE=1] [FORCE=1] [DATA_DIR=dir] [HW4_DATA=dir]: see staff/reference/homework.py
YES := 1 yes true on
homework: $(STAMP)  ## the main job: run every task of the homework, build report.pdf
	$(PY) -m staff.reference.homework $(if $(filter $(YES),$(SMOKE)),--smoke) \
	    $(if $(filter $(YES),$(FORCE)),--force) $(if $(DATA_DIR),--data-dir "$(DATA_DIR)")

report: $(STAMP)  ## rebuild report.pdf from results/ (make homework builds it too)
	$(PY) -m staff.reference.report

DATA ?= data
data: $(STAMP)  ## get CIFAR-10 + Fashion-MNIST into DATA=data/ (then export HW4_DATA=data)
	$(PY) -m staff.reference.get_data "$(DATA)"

bench: $(STAMP)  ## the benchmarks on the real data in HW4_DATA (numbers for BENCHMARKS.md)
	$(PY) bench/bench_cifar.py
	$(PY) bench/part1_vs_peer.py --peer-epochs 2 --setting light
	$(PY) bench/bench_part2.py
	$(PY) bench/bench_writeup.py

lint: $(STAMP)  ## ruff on the whole tree
	$(VENV)/bin/ruff check .

test: $(STAMP)  ## ruff + the pytest suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

clean:  ## remove caches and run outputs (keeps .venv and data)
	rm -rf results dist .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

# Course tooling (the staff package; docs/STAFF.md).
starter: $(STAMP)  ## build the student starter kit and check it: dist/hw4-starter/ and .zip
	$(PY) -m staff.starter

submission: $(STAMP)  ## zip the graded files: make submission UNIQNAME=name [FORCE=1]
	@test -n "$(UNIQNAME)" || { echo "usage: make submission UNIQNAME=name"; exit 2; }
	$(PY) -m handin.pack "$(UNIQNAME)" $(if $(filter $(YES),$(FORCE)),--force)

check: $(STAMP)  ## check a submission zip: make check ZIP=name.zip
	@test -n "$(ZIP)" || { echo "usage: make check ZIP=name.zip"; exit 2; }
	$(PY) -m handin.check "$(ZIP)"

grade: $(STAMP)  ## autograde a submission: make grade ZIP=name.zip [OUT=results.json]
	@test -n "$(ZIP)" || { echo "usage: make grade ZIP=name.zip [OUT=results.json]"; exit 2; }
	$(PY) -m staff.grading.grade "$(ZIP)" --out "$(or $(OUT),results.json)"

# make grade-all SUBMISSIONS=dir-or-canvas.zip [JOBS=n] [OUT=grades] [ROSTER=gradebook.csv]
#                [ASSIGNMENT="Homework 4 (12345)"] [ASSIGNMENT_ID=12345] [INCLUDE_FLAGGED=1]
#                [PREVIOUS_TERMS=dir] [SANDBOX=auto|bwrap|uid|none] [GRADESCOPE_CSV=scores.csv]
#                [FORCE=1]: see staff/course/grade_all.py and docs/STAFF.md
grade-all: $(STAMP)  ## grade a course: make grade-all SUBMISSIONS=folder-or-canvas.zip [JOBS=n]
	@test -n "$(SUBMISSIONS)$(GRADESCOPE_CSV)" || { echo "usage: make grade-all \
	SUBMISSIONS=<folder or Canvas zip> [JOBS=n] [OUT=grades] [ASSIGNMENT=\"Homework 4 (12345)\"] \
	[GRADESCOPE_CSV=scores.csv]"; exit 2; }
	$(PY) -m staff.course.grade_all $(if $(SUBMISSIONS),"$(SUBMISSIONS)") --out "$(or $(OUT),grades)" \
	    $(if $(JOBS),--jobs $(JOBS)) $(if $(ROSTER),--roster "$(ROSTER)") \
	    $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)") \
	    $(if $(ASSIGNMENT_ID),--assignment-id "$(ASSIGNMENT_ID)") \
	    $(if $(filter $(YES),$(INCLUDE_FLAGGED)),--include-flagged) \
	    $(if $(PREVIOUS_TERMS),--previous-terms "$(PREVIOUS_TERMS)") \
	    $(if $(SANDBOX),--sandbox "$(SANDBOX)") \
	    $(if $(GRADESCOPE_CSV),--gradescope-csv "$(GRADESCOPE_CSV)") \
	    $(if $(filter $(YES),$(FORCE)),--force)

autograder: $(STAMP)  ## build the Gradescope autograder upload: dist/autograder.zip
	$(PY) -m staff.grading.make_autograder

mistakes: $(STAMP)  ## run the mistakes corpus through drivers, student tests, grader: the table
	$(PY) -m staff.corpus.mistakes $(if $(JOBS),--jobs $(JOBS))
