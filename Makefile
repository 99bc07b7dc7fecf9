# The two commands of the README. Each sets up what is missing, then runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint setup test-setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Debian packages the app runs on: tesseract-ocr reads scanned and faxed denial letters (on this machine; no cloud
# service sees a letter). Installed as root, or with sudo, when missing.
APT_INSTALL = if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; fi

setup: $(BIN)/python
	$(BIN)/pip install -q -e .
	@command -v tesseract >/dev/null || { $(call APT_INSTALL,tesseract-ocr tesseract-ocr-eng); }

# Debian's Chromium drives the browser tests (no browser download at run time). Medplum's FHIR router, the
# third-party server of tests/e2e/test_medplum.py, is installed from tests/medplum/package-lock.json with the
# machine's Node.js (v20.19+) and npm; without npm those tests say so and skip.
test-setup: $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	@if ! command -v npm >/dev/null; then echo "npm not found: the Medplum tests will be skipped"; \
	elif [ ! tests/medplum/node_modules/.package-lock.json -nt tests/medplum/package-lock.json ]; then \
	  cd tests/medplum && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; fi
	@command -v tesseract >/dev/null || { $(call APT_INSTALL,tesseract-ocr tesseract-ocr-eng); }
	@command -v chromium >/dev/null || { $(call APT_INSTALL,chromium); }

demo: setup
	$(BIN)/p2p-brief demo

# The storage tests also run on PostgreSQL: tests/setup_postgres.sh installs and starts Debian's server (as root or
# with sudo) and prints its URL; where it cannot, those tests say why and skip.
test: test-setup
	P2P_TEST_POSTGRES_URL="$$(bash tests/setup_postgres.sh)" $(BIN)/pytest

# What CI checks beside the suite: lint, formatting and types (the tools come with the test extras).
lint: test-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
