# The few commands a contributor needs. `make test` is what CI runs.
VENV ?= .venv
BIN := $(VENV)/bin
PACKAGES := assistant rules faq_index connectors

.PHONY: test lint typecheck pytest demo bench clean

test: $(VENV)/.installed lint typecheck pytest

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy $(PACKAGES)

pytest: $(VENV)/.installed
	$(BIN)/pytest

demo: $(VENV)/.installed
	$(BIN)/assistant serve

bench: $(VENV)/.installed
	$(BIN)/python bench/core_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
