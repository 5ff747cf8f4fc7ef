# πlot: the README's commands. Each target installs what it needs itself: uv (into .tools/),
# the locked environment (into .venv/), and with it the embedded nats-server and store.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
RUN := $(UV) run --frozen --all-packages
PORT ?= 8000
DATA_DIR ?= .pilot

.PHONY: install up test test-unit test-integration test-e2e lint format typecheck bench clean schemathesis

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Bytecode is compiled once, here: where PYTHONDONTWRITEBYTECODE is set (as on these
# development machines) every service process and test subprocess would otherwise compile
# all its imports again, seconds of CPU each.
.venv/.installed: $(UV) uv.lock pyproject.toml shared/pyproject.toml services/*/pyproject.toml
	$(UV) sync --frozen --all-packages --compile-bytecode
	touch $@

install: .venv/.installed

up: install  ## start πlot on its embedded defaults (NATS, store, every service)
	$(RUN) pilot up --port $(PORT) --data-dir $(DATA_DIR)

# TEST_WORKERS=2 runs the files in 2 processes (pytest-xdist), whole files to a worker, each
# with its own nats-server and store; files go out in collection order, `slow` ones first
# (tests/conftest.py). The default is 0 (one process): with workers, two servers can be
# handed the same free port (pilot.embedded.free_port), and a test then talks to the wrong one.
TEST_WORKERS ?= 0

test: install  ## every test: unit, integration (real NATS + store), end to end
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-unit: install
	$(RUN) pytest tests/unit

test-integration: install
	$(RUN) pytest tests/integration

test-e2e: install
	$(RUN) pytest tests/e2e

schemathesis: install  ## fuzz the gateway's OpenAPI against a fresh `pilot up` (EXAMPLES=10)
	$(RUN) bash services/gateway/scripts/schemathesis.sh

lint: install  ## ruff + mypy (strict)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy pilot shared/src services/*/src

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

.PHONY: train-intent eval bench-generation

train-intent: install  ## fit the intent classifier and the LLM-step backstop (scikit-learn); write their model files
	$(RUN) python -m pilot_planner.intent_training
	$(RUN) python -m pilot_planner.needs_training

eval: install  ## generation eval: classifier held-out accuracy, node-type F1 and checks per prompt
	$(RUN) python -m tests.eval.run

bench-generation: install  ## offline generation latency and the LLM path (repairs) vs baselines
	$(RUN) python benchmarks/generation/run.py

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache

.PHONY: eval-retrieval

eval-retrieval: install  ## knowledge retrieval: 200 documents, 20 questions, prints hit@3 (>= 0.9)
	$(RUN) python -m pilot_runners.knowledge.eval

.PHONY: browser prometheus test-ui

SCREENSHOTS ?= test-artifacts/screenshots

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:  ## Debian's chromium (and CJK fonts for the Chinese UI) for the panel's tests, if missing
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-noto-cjk; \
	else echo "chromium: /usr/bin/chromium and CJK fonts are installed"; fi

prometheus:  ## Debian's prometheus for the dashboards' end-to-end test, if missing
	@if [ ! -x /usr/bin/prometheus ]; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends \
			-o DPkg::Lock::Timeout=300 prometheus; \
	else echo "prometheus: /usr/bin/prometheus is installed"; fi

test-ui: install browser  ## the web panel in headless chromium; screenshots in $(SCREENSHOTS)
	UI_SCREENSHOTS_DIR=$(SCREENSHOTS) $(RUN) pytest tests/e2e/test_panel.py
	@echo "screenshots: $(SCREENSHOTS)"

.PHONY: bench-deps

bench-deps:  ## Debian's redis-server (the Celery peer's broker) for `make bench`, if missing
	@if [ ! -x /usr/bin/redis-server ] && ! command -v redis-server >/dev/null; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends \
			-o DPkg::Lock::Timeout=300 redis-server; \
	else echo "redis-server: $$(command -v redis-server || echo /usr/bin/redis-server) is installed"; fi

bench: install bench-deps  ## πlot vs LangGraph, Celery + Redis and bare JetStream: one table, GOAL lines (BENCH_QUICK=1: smoke run)
	$(UV) sync --frozen --all-packages --group bench --compile-bytecode
	$(RUN) --group bench python -m benchmarks.execution
