# The two commands of the README: `make demo` and `make test`.
# Both create .venv when missing and (re)install the package when pyproject.toml changes,
# and build the web pages (GraphiQL, the data map) when they are missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# The web pages: web/ (Vite) -> gateway/static/dist, served by the gateway (gateway/web.py)
WEB_MODULES := web/node_modules/.installed
WEB_BUILT := gateway/static/dist/.built
WEB_SOURCES := web/package.json web/package-lock.json web/vite.config.js $(wildcard web/*.html) \
	$(shell find web/src -type f 2>/dev/null)
HAVE_NODE := $(shell command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && echo yes)

.PHONY: demo test install web bench catalogs messages federation-deps supergraph

install: $(STAMP) catalogs

# The notice's wording in other languages (registry/notice.py): the .po catalogs are the source,
# compiled to .mo here (git-ignored). `make messages` extracts new wording from the code into the
# template and merges it into each catalog, for a translator to fill.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard registry/locale/*/LC_MESSAGES/*.po))
catalogs: $(CATALOGS)

%.mo: %.po | $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@ -D notice

messages: $(STAMP)
	$(VENV)/bin/pybabel extract -k t -k N_ --no-default-keywords --no-location --sort-output \
		--project pi-gateway -o registry/locale/notice.pot registry/notice.py
	$(VENV)/bin/pybabel update -i registry/locale/notice.pot -d registry/locale -D notice \
		--no-fuzzy-matching --ignore-obsolete --width 100

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# order-only on the interpreter: its mtime must not trigger a reinstall
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -e ".[test]"
	touch $@

ifeq ($(HAVE_NODE),yes)
web: $(WEB_BUILT)
else
web:
	@echo "make web: node and npm not found, so the web pages are not built (install Node.js 20+ to get them)."
	@echo "          The API still serves; /graphql then shows Strawberry's GraphiQL, which loads from a CDN, and /map says it is not built."
endif

$(WEB_MODULES): web/package-lock.json web/package.json
	cd web && npm ci --prefer-offline --no-audit --no-fund
	touch $@

$(WEB_BUILT): $(WEB_SOURCES) $(WEB_MODULES)
	cd web && npm run build
	touch $@

demo: $(STAMP) catalogs web
	$(VENV)/bin/pi-gateway serve --demo

# PostgreSQL tests run when PI_GATEWAY_TEST_POSTGRES_URL is set, and skip with the reason otherwise;
# the browser tests (tests/web) need the built pages and /usr/bin/chromium, and skip with the reason otherwise
# the fuzz tests generate PI_GATEWAY_FUZZ_EXAMPLES operations per role and kind (20 here; .ci/run: 100)
test: $(STAMP) catalogs web
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The benchmark harness of issue 7 (bench/): scale databases, the real server, a load generator.
# Installs the bench extra on first use; PI_GATEWAY_BENCH_POSTGRES_URL adds PostgreSQL; BENCH_ARGS go
# to `python -m bench.run` (e.g. BENCH_ARGS="--customers 100000 --output /tmp/quick.md" for a quick run).
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(VENV)/bin/python -m pip install -q -e ".[test,bench]"
	touch $@

bench: $(BENCH_STAMP)
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

# The demo supergraph (README "Behind a supergraph"): the booking subgraph, pi-gateway as a
# Federation v2 subgraph and Hive Gateway over their composition; federation/ holds the npm
# packages (Hive Gateway and the composition library, MIT), installed like web/'s.
FEDERATION_MODULES := federation/node_modules/.installed

ifeq ($(HAVE_NODE),yes)
federation-deps: $(FEDERATION_MODULES)
else
federation-deps:
	@echo "make federation-deps: node and npm not found, so Hive Gateway is not installed (install Node.js 20+)."
	@echo "                      The federation tests through a gateway then skip with that reason."
endif

$(FEDERATION_MODULES): federation/package-lock.json federation/package.json
	cd federation && npm ci --prefer-offline --no-audit --no-fund
	touch $@

supergraph: $(STAMP) catalogs federation-deps
	$(VENV)/bin/python federation/supergraph.py
