# The two commands of the README: `make demo` and `make test`.
# Both create .venv when missing and (re)install the package when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test install

install: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# order-only on the interpreter: its mtime must not trigger a reinstall
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -e ".[test]"
	touch $@

demo: $(STAMP)
	$(VENV)/bin/pi-gateway serve --demo

# PostgreSQL tests run when PI_GATEWAY_TEST_POSTGRES_URL is set, and skip with the reason otherwise
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest $(PYTEST_ARGS)
