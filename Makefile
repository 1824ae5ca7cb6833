# Tollgate — the two commands a new machine needs are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
PYTEST_ARGS ?=
PORT ?= 8000

.PHONY: run test test-fast install install-dev migrate seed serve lint format check-deploy worker beat bench load faults clean

$(PY):
	@python=$$(scripts/find-python) && echo "Creating $(VENV) with $$python" && $$python -m venv $(VENV)

# The lock files pin every package with hashes; the stamp files re-run the
# install only when a lock file changes.
$(VENV)/.base-installed: requirements/base.txt | $(PY)
	$(PIP) install --require-hashes -r requirements/base.txt
	@touch $@

$(VENV)/.dev-installed: requirements/dev.txt | $(PY)
	$(PIP) install --require-hashes -r requirements/dev.txt
	@touch $@ $(VENV)/.base-installed

install: $(VENV)/.base-installed
install-dev: $(VENV)/.dev-installed

## make run [PORT=8000]: install, migrate the SQLite database, load the demo portfolio, send its
## reminders once, serve it (runserver runs the beat schedule itself; see core/beat.py)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py send_reminders
	@echo ""
	@echo "Tollgate is at http://127.0.0.1:$(PORT)/  —  log in as admin, exec, pm, pm2, contrib,"
	@echo "viewer or compliance, password tollgate-demo. Stop with Ctrl-C."
	@echo ""
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

## make test: install the test tools and run the whole suite
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

## make test-fast: the suite without the slow tests (browser, schemathesis, demo seeding, real worker, bulk data)
test-fast: install-dev
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.prod SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
		ALLOWED_HOSTS=tollgate.example.com $(PY) manage.py check --deploy --fail-level WARNING

worker: install
	$(VENV)/bin/celery -A config worker -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info

## make bench: pages, exports, load, reminders and ingestion over HTTP at 10,000 and 50,000 initiatives; see BENCHMARKS.md
BENCH_ARGS ?=
bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

## make load: 50 Locust users for 60 s against gunicorn on 127.0.0.1 (needs `make bench` data)
LOAD_ARGS ?=
load: install-dev
	$(PY) -m bench.load $(LOAD_ARGS)

## make faults: Redis, a Celery worker, SMTP and PostgreSQL failing under load; stops and restarts services
FAULTS_ARGS ?=
faults: install
	$(PY) -m bench.faults $(FAULTS_ARGS)

## Regenerate the lock files after editing pyproject.toml (needs network access to PyPI).
lock: install-dev
	$(PIP) install uv
	$(VENV)/bin/uv pip compile pyproject.toml -q --python-version 3.12 --generate-hashes -o requirements/base.txt
	$(VENV)/bin/uv pip compile pyproject.toml -q --group dev --python-version 3.12 --generate-hashes -o requirements/dev.txt

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache
