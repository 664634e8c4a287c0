# The targets are the commands the README documents.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: help install data reports test test-fast lint snapshot verify docs claims-doc bench clean

help:
	@echo "make reports    render every report from the embedded snapshot into reports/"
	@echo "make test       run the test suite and the notebooks under nbval (what CI runs)"
	@echo "make test-fast  the suite without the slow and browser tests (the inner loop)"
	@echo "make data       list the tables in the embedded snapshot"
	@echo "make snapshot   rebuild data/snapshot/ from the raw captures in data/raw/"
	@echo "make verify     check data/raw/ against its record and that data/snapshot/ is current"
	@echo "make docs       run the fault and bad-input tests, write docs/reliability.md and docs/claims.md"
	@echo "make claims-doc write docs/claims.md (claims, readings, verdicts, verdict record)"
	@echo "make bench      measure the suite (writes benchmarks/results.md)"
	@echo "make lint       ruff + notebook output check"
	@echo "make dist       build the sdist and the wheel into dist/ (python -m build)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

data: $(STAMP)
	$(BIN)/noordstats data

reports: $(STAMP)
	$(BIN)/noordstats reports

snapshot: $(STAMP)
	$(BIN)/noordstats snapshot build

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile tests notebooks --nbval-lax

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow and not browser"

verify: $(STAMP)
	$(BIN)/noordstats snapshot verify

docs: $(STAMP) claims-doc
	$(BIN)/python -m pytest tests -q -m reliability --reliability-doc docs/reliability.md

claims-doc: $(STAMP)
	$(BIN)/python -m noordstats.report.claims_doc docs/claims.md

lint: $(STAMP)
	$(BIN)/ruff check noordstats tests benchmarks
	$(BIN)/ruff format --check noordstats tests benchmarks
	$(BIN)/python -m pytest -q tests/test_notebooks.py -k committed_without_outputs

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

.PHONY: dist
dist: $(STAMP)
	$(BIN)/python -m build --outdir dist .

clean:
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
