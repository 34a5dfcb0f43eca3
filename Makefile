# Whistle task runner. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help setup messages extract-messages run test lint format pytest bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The secret key only: debug mode stays off unless a developer turns it on (see .env.example).
.env:
	@echo "writing .env for local development (see .env.example for every setting)"
	@printf '# WHISTLE_DEBUG=1 turns debug mode on: technical error pages, for development only.\nWHISTLE_SECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))')" > .env

messages: $(STAMP) .env ## compile the translation files
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install GNU gettext (apt-get install gettext)"; exit 1; }
	@$(BIN)/whistle compilemessages --ignore '.venv' --ignore 'node_modules' -v 0

# Front-end packages (htmx, Leaflet, ECharts) from package-lock.json; Django serves them from
# node_modules. Runs again only when the lockfile is newer than the last install.
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (apt-get install nodejs npm), then run make setup again"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

setup: $(STAMP) .env messages $(NODE_STAMP) ## create the virtual environment and install everything

# The hashed, compressed copies WhiteNoise serves when debug mode is off; collected again only
# when a static file, a front-end package or an installed package changed.
STATIC_MANIFEST := var/static/staticfiles.json
$(STATIC_MANIFEST): $(STAMP) .env $(NODE_STAMP) $(shell find static -type f)
	@echo "collecting static files into var/static (slow the first time)"
	@WHISTLE_DEBUG=0 $(BIN)/whistle collectstatic --noinput -v 0
	@touch $(STATIC_MANIFEST)

# `make run` is what a district tries first, so it runs as a deployment does: gunicorn, debug
# mode off whatever .env says (`make run WHISTLE_DEBUG=1` turns it on), static files collected
# and served by WhiteNoise, links in messages pointing at the address served.
# `make run WHISTLE_DEBUG=1 SERVE_ARGS=--dev`: Django's development server, reloading on changes.
SERVE_ARGS ?=
run: export WHISTLE_DEBUG ?= 0
# The demo city's own logins sign in without a second factor (docs/security.md).
run: export WHISTLE_DEMO_MODE ?= 1
run: export WHISTLE_SITE_URL ?= http://$(HOST):$(PORT)
run: setup $(STATIC_MANIFEST) ## set up, load the demo city if the database is empty, serve on 127.0.0.1:8000 (HOST, PORT)
	@mkdir -p var
	$(BIN)/whistle migrate --noinput -v 0
	$(BIN)/whistle createcachetable -v 0
	@# The demo's signed exports and checkpoints: a key made once and kept (docs/trail.md).
	@$(BIN)/whistle keys init --if-missing
	@# Web Push for the demo: a VAPID key written into the development .env once and kept.
	@$(BIN)/whistle vapid-keys --env-file .env
	$(BIN)/whistle seed-demo --if-empty
	@$(BIN)/whistle demo-logins
	@$(BIN)/whistle demo-open311-key
	@$(BIN)/whistle serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

lint: $(STAMP) ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy whistle tests

format: $(STAMP) ## rewrite the code in the project's format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

pytest: setup ## only the test suite
	$(BIN)/pytest $(PYTEST_ARGS)

test: setup lint ## set up, lint, check migrations, run every test (DATABASE_URL picks the database)
	$(BIN)/whistle makemigrations --check --dry-run
	@$(BIN)/whistle shell --no-imports -c "from django.db import connection as c; print('tests run on', c.vendor)"
	@[ -x /usr/bin/chromium ] || echo "NOTICE: /usr/bin/chromium not found, the browser tests will be SKIPPED: install chromium and fonts-noto-cjk: apt-get install chromium fonts-noto-cjk"
	$(BIN)/pytest $(PYTEST_ARGS)

# Every script under benchmarks/ that reports through benchmarks/reporting.py, at the quick
# size unless told otherwise (`make bench BENCH_ARGS=` for the full size); DATABASE_URL picks
# the database server. Results in benchmarks/results.json (docs/benchmarks.md).
BENCH_ARGS ?= --quick
bench: setup ## run the benchmarks (quick size; BENCH_ARGS= for the full one), write benchmarks/results.json
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) var/whistle.sqlite3* var/static

APPS_WITH_MESSAGES := $(patsubst %/locale,%,$(wildcard whistle/*/locale))
extract-messages: $(STAMP) .env ## update the .po files from the code and templates
	@for app in $(APPS_WITH_MESSAGES); do (cd $$app && $(CURDIR)/$(BIN)/whistle makemessages -l zh_Hans -v 0); done
	@$(BIN)/whistle makemessages -l zh_Hans -v 0 --ignore '.venv/*' --ignore 'node_modules/*' $(foreach app,$(APPS_WITH_MESSAGES),--ignore '$(app)/*')
