# The two commands a newcomer needs: `make run` and `make test`. Both do their own set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOME_DIR ?= var/lienthong
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "lienthong needs Python >= 3.11")'
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	@test -f $(HOME_DIR)/lienthong.toml || $(BIN)/lienthong --home $(HOME_DIR) init --demo --with-pki
	$(BIN)/lienthong --home $(HOME_DIR) status
	@echo "Submission: STARTTLS on 127.0.0.1:10587, implicit TLS on 127.0.0.1:10465; demo logins in $(HOME_DIR)/credentials.txt"
	$(BIN)/lienthong --home $(HOME_DIR) serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck unit

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache .hypothesis
