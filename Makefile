# Two commands for a fresh machine with nothing but Python 3.11+:
#   make run    installs the pinned stack, generates the sample province and runs the whole pipeline
#   make test   installs the pinned stack (with Java and the Spark group) and runs the test suite
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: uv setup spark spark-cluster spark-cluster-stop browser run lint lint-only test bench ui clean dbt-sources

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (this machine), every run would compile
# Great Expectations, Dagster and dbt again (benchmarks/README.md).
setup: uv
	$(UV) sync --frozen --compile-bytecode

run: setup
	$(UV) run tthc generate
	$(UV) run tthc run

lint: setup lint-only

lint-only:
	$(UV) run ruff check .
	$(UV) run lint-imports
	$(UV) run sqlfluff lint dbt_project/models dbt_project/tests dbt_project/macros

# dbt's raw sources and the macro its models read the raw columns from are rendered from the spec of the raw tables (contracts/landed_tables.py): run this after
# changing the spec (tests/test_landed_tables.py fails while the file is stale).
dbt-sources: setup
	$(UV) run python -m contracts.landed_tables

# The page tests open the dashboard and the data quality page in Debian's chromium (Playwright drives it; its own
# browser download cannot work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium for the page tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "could not install chromium: the page tests will skip (CI fails them)"

# The Spark engine (TTHC_ENGINE=spark, docs/scale-out.md) needs Java and the `spark` dependency group; the suite's
# parity test runs the pipeline on both engines.
spark: uv
	@command -v java >/dev/null 2>&1 || { echo "installing Java for the Spark engine"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
	$(UV) sync --frozen --compile-bytecode --group spark

# A Spark standalone cluster on 127.0.0.1 (a master, two workers, the Thrift server) for TTHC_ENGINE=spark_cluster,
# from pyspark's own scripts; it runs until `make spark-cluster-stop` (docs/scale-out.md).
spark-cluster: spark
	$(UV) run tthc spark-cluster start

spark-cluster-stop: setup
	$(UV) run tthc spark-cluster stop

test: spark lint-only browser
	$(UV) run pytest

# Full, nightly and no-op runs against DuckDB's bare read of the same exports (benchmarks/bench.py); SCALE=14 for 10M.
SCALE ?= 1.4
bench: setup
	$(UV) run python benchmarks/bench.py --scale $(SCALE)

ui: setup
	$(UV) run tthc ui

clean:
	rm -rf data/landing data/warehouse data/published data/dagster_home
