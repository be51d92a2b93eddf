# The two commands: `make run` and `make test`. Both rest on `make setup`.
# The first Python >= 3.11 that really runs (a pyenv shim may exist for a version not installed).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi

.PHONY: setup run test test-unit test-e2e bench lint translations rules clean lock lock-upgrade check-lock

$(BIN)/python:
	@[ -n "$(PYTHON)" ] || { echo "Python 3.11 or newer is needed (none found on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The locks pin every package with its hashes, for Python 3.11-3.13 on any platform:
# requirements.lock what a server runs (dependencies + prod), requirements-dev.lock adds the test
# extra (what `make setup` installs). The bench extra (python-xmlsec) stays outside them.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
UV_VERSION := 0.13.9
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' --quiet

$(STAMP): pyproject.toml $(LOCK) $(DEV_LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python scripts/check_lock.py $(LOCK) $(DEV_LOCK)
	@touch $(STAMP)

app/translations/%/LC_MESSAGES/messages.mo: app/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -d app/translations -l $*

setup: $(STAMP) app/translations/es/LC_MESSAGES/messages.mo

run: setup
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	@echo "Portal on http://127.0.0.1:$(PORT) — demo logins: buyer@demo.test, supplier@demo.test, supplier2@demo.test / demo-pass-2026"
	PORT=$(PORT) APP_ENV=development $(BIN)/python wsgi.py

test: test-unit test-e2e

test-unit: setup
	$(BIN)/python -m pytest tests -q $(PYTEST_ARGS)

test-e2e: setup
	$(BIN)/python e2e/find_browser.py
	$(BIN)/python -m pytest e2e -q $(PYTEST_ARGS)

bench: setup
	-$(BIN)/python -m pip install --quiet -e '.[bench]' >/dev/null 2>&1 || echo "python-xmlsec did not install: (e) is skipped"
	$(BIN)/python -m benchmarks

# Lay out the official rule archives downloaded from their publishers as a rules folder
# (EINVOICE_RULES_DIR): make rules DEST=dir ARCHIVES="UBL-2.1.zip en16931-ubl.zip …"
rules: setup
	@[ -n "$(DEST)" ] && [ -n "$(ARCHIVES)" ] || { \
		echo 'usage: make rules DEST=dir ARCHIVES="a.zip b.zip"'; exit 2; }
	$(BIN)/python scripts/make_rules.py "$(DEST)" $(ARCHIVES)

lint: setup
	$(BIN)/ruff check app tests e2e
	$(BIN)/ruff format --check app tests e2e
	$(BIN)/lint-imports --no-cache

translations: setup
	$(FLASK) translations extract

# After editing dependencies in pyproject.toml: re-resolve the locks, keeping every pin that
# still fits (lock-upgrade: newest allowed versions of everything). The dev lock is resolved
# first; the server's lock takes its versions from it, so both install the versions tested.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_COMPILE) $(LOCK_ARGS) --extra prod --extra test -o $(DEV_LOCK)
	$(UV_COMPILE) $(LOCK_ARGS) --extra prod -c $(DEV_LOCK) -o $(LOCK)
	$(BIN)/python scripts/check_lock.py --stamp --extras prod,test $(DEV_LOCK)
	$(BIN)/python scripts/check_lock.py --stamp --extras prod $(LOCK)

lock-upgrade:
	$(MAKE) lock LOCK_ARGS=--upgrade

# Fails when a lock no longer matches pyproject.toml (CI runs it; `make setup` does too).
check-lock: setup
	$(BIN)/python scripts/check_lock.py $(LOCK) $(DEV_LOCK)

clean:
	rm -rf $(VENV) .pytest_cache
