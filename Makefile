# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv and installs what it needs (system packages too, when run as root).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export UV_SYSTEM_CERTS := 1

.PHONY: demo test lint typecheck unit system bytecode bench bench-large clean

$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps 'statsforecast>=2.1,<3' 'fugue>=0.9.4,<0.10'  # pyproject.toml says why
	@touch $@

# The bytecode of src/, as pip writes it when it installs a wheel. An editable install leaves it to
# Python, which does not write it when PYTHONDONTWRITEBYTECODE is set (as on this project's
# machines): then every `sanjeh` process compiled the modules it imports again (about 0.5 s of
# `sanjeh serve`'s start, 0.3 s of each command). Only changed files are compiled again.
bytecode: $(BIN)/.installed
	$(BIN)/python -m compileall -q src >/dev/null

# Debian packages the tests use: chromium (browser tests), PostgreSQL and Java (Spark) for the backend tests,
# MariaDB for the database-source import tests (from the apt cache when it holds them).
system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	{ command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; } || missing="$$missing mariadb-server-core mariadb-client-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-download $$missing >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }; \
	  else echo "please install:$$missing"; exit 1; fi; \
	fi

demo: $(BIN)/.installed bytecode
	$(BIN)/sanjeh demo demo-workspace

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed system bytecode
	$(BIN)/pytest -n auto --dist loadfile

test: lint typecheck unit

bench: $(BIN)/.installed bytecode
	$(BIN)/python -m bench.run --orders 1000000

bench-large: $(BIN)/.installed bytecode
	$(BIN)/python -m bench.run --orders 10000000

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .mypy_cache .ruff_cache
