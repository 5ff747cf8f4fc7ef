# πlot: the README's commands. Each target installs what it needs itself: uv (into .tools/),
# the locked environment (into .venv/), and with it the embedded nats-server and store.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
RUN := $(UV) run --frozen --all-packages
PORT ?= 8000
DATA_DIR ?= .pilot

.PHONY: install up test test-unit test-integration test-e2e lint format typecheck bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.installed: $(UV) uv.lock pyproject.toml shared/pyproject.toml services/*/pyproject.toml
	$(UV) sync --frozen --all-packages
	touch $@

install: .venv/.installed

up: install  ## start πlot on its embedded defaults (NATS, store, every service)
	$(RUN) pilot up --port $(PORT) --data-dir $(DATA_DIR)

test: install  ## every test: unit, integration (real NATS + store), end to end
	$(RUN) pytest

test-unit: install
	$(RUN) pytest tests/unit

test-integration: install
	$(RUN) pytest tests/integration

test-e2e: install
	$(RUN) pytest tests/e2e

lint: install  ## ruff + mypy (strict)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy pilot shared/src services/*/src

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
