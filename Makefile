# baton: durable multi-agent workflows on Azure Durable Functions, run locally with devhost.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 7071

.PHONY: run test test-packaging serve lint bench breakdown install clean

$(VENV)/.installed: requirements.txt requirements-dev.txt package.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed  ## venv + Python and Node dependencies

local.settings.json:  ## devhost and func start read it; the sample runs offline on Azurite
	cp local.settings.sample.json $@

run: install local.settings.json  ## the main job: Azurite + devhost, one real workflow end to end, report, exit
	$(PY) -m baton demo --workflow pipeline --input examples/review.json

test: install  ## the whole test suite (starts Azurite when it is not running)
	$(PY) -m pytest -q

test-packaging: install  ## pip-installs this project into a fresh virtualenv and uses it from another folder (slow)
	$(PY) -m pytest -q -m packaging

serve: install local.settings.json  ## keep the app running on http://127.0.0.1:$(PORT); prints the CLI line to use
	$(PY) -m baton serve --port $(PORT)

lint: install
	$(PY) -m ruff check .

bench: install  ## engine and workflow benchmarks, both stores, one run (summary only; logs in /tmp/baton-bench)
	$(PY) bench/engine.py --store memory --store azurite --workflows

breakdown: install  ## where a workflow's time goes, against the fake model at 300 ms per call
	$(PY) bench/breakdown.py --store azurite

clean:
	rm -rf $(VENV) node_modules .azurite .pytest_cache .ruff_cache
