# Two commands for a fresh machine with nothing but Python 3.11+:
#   make run    installs the pinned stack, generates the sample province and runs the whole pipeline
#   make test   installs the pinned stack and runs the test suite
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: setup run lint test ui clean

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

run: setup
	$(UV) run tthc generate
	$(UV) run tthc run

lint: setup
	$(UV) run ruff check .
	$(UV) run lint-imports
	$(UV) run sqlfluff lint dbt_project/models dbt_project/tests dbt_project/macros

test: lint
	$(UV) run pytest

ui: setup
	$(UV) run tthc ui

clean:
	rm -rf data/landing data/warehouse data/published data/dagster_home
