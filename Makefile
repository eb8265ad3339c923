# The few commands a contributor needs. `make test` is what CI runs (.ci/run starts the
# services, then runs it), on a fresh clone as on a laptop.
VENV ?= .venv
BIN := $(VENV)/bin
PACKAGES := assistant rules faq_index connectors
# The tests cover the optional readers, indexes and the trainer too. torch is pinned first: an
# unpinned torch pulls a multi-GB CUDA build; this pin resolves to the CPU build where the
# package index offers one (override it with `make test TORCH=...`).
TORCH ?= torch==2.13.0
EXTRAS := test,ann,transformers,train
# The e5 models run on one thread: with more, a query was up to 100 times slower here.
export OMP_NUM_THREADS ?= 1

.PHONY: test lint typecheck pytest browser demo bench clean

test: $(VENV)/.installed browser lint typecheck pytest

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q '$(TORCH)'
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

# Debian's Chromium and chromedriver for the browser tests (nothing downloads a browser of
# its own). Installed where we may (root with apt-get); elsewhere the browser tests are
# skipped with the reason, and fail under ASSISTANT_REQUIRE_SERVICES=1 (CI).
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Chromium and chromedriver (apt-get) for the browser tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver fonts-nanum; } >/dev/null \
		|| echo "make: could not install chromium and chromium-driver with apt-get; the browser tests will be skipped" >&2; \
	else \
		echo "make: Chromium and chromedriver are not installed, and installing them needs root and apt-get;" >&2; \
		echo "      the browser tests will be skipped (install them: sudo apt-get install chromium chromium-driver)" >&2; \
	fi

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
