# The two commands of the README: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed

.PHONY: run test lint format system venv migrate demo clean bench bench-province bench-province-reuse bench-quick requirements

## run: install what is missing, migrate, load the demo data, start web + worker + beat on :$WEB_PORT (8000)
run: venv
	bash .ci/system-packages run
	mkdir -p var/celery/queue var/celery/processed var/celery/results var/celery/control var/media staticfiles
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py createcachetable
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py load_demo
	DEBUG=$${DEBUG:-true} $(BIN)/honcho start -f Procfile

## test: the whole suite (PostgreSQL, Redis, Chromium started by the tests when they can be had)
test: venv
	bash .ci/system-packages test
	mkdir -p var
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	# One pytest-xdist worker per core (TEST_WORKERS to change; 0 runs in this process). Each worker starts
	# its own PostgreSQL, Redis, clamd and Chromium; a test file stays on one worker.
	$(BIN)/pytest -n $${TEST_WORKERS:-auto} --dist loadfile

## lint / format: ruff
lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
format: venv
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

## bench: the benchmarks in bench/ (on demand, never part of make test)
bench: venv
	$(BIN)/python -m bench

## bench-province: a PostgreSQL of its own loaded with a province (DOSSIERS, default 1,000,000), then the
## HTTP scenarios with wrk against gunicorn; bench-province-reuse measures the database loaded before;
## bench-quick checks the harness on 3,000 dossiers. See README "Benchmarks".
DOSSIERS ?= 1000000
bench-province: venv
	$(BIN)/python -m bench.province --dossiers $(DOSSIERS) $(BENCH_ARGS)
bench-province-reuse: venv
	$(BIN)/python -m bench.province --dossiers $(DOSSIERS) --reuse $(BENCH_ARGS)
bench-quick: venv
	BENCH_DIR=/var/tmp/portal-bench-quick $(BIN)/python -m bench.province --dossiers 3000 --duration 3

## venv: runtime and development requirements, both pinned with hashes (the image installs only the first)
venv: $(STAMP)
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

## requirements: recompile the pinned, hashed files from requirements.in and requirements-dev.in
## (pip-compile keeps the versions already pinned; add --upgrade-package NAME to move one)
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links
requirements: venv
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --allow-unsafe --output-file requirements-dev.txt requirements-dev.in

clean:
	rm -rf var staticfiles .pytest_cache
