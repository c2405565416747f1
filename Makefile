# Every set-up step the project needs lives here: a fresh machine needs only
# `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install data test lint format demo bench clean

$(STAMP): pyproject.toml setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[data,vision,test]"
	touch $(STAMP)

install: $(STAMP)

# Real image data from Debian's packages, where this machine can install them
# (root with apt-get, as on CI); elsewhere the tests that need it skip.
data:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null \
		&& [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; fi

lint: install
	$(VENV)/bin/ruff check applied_ml tests tutorials benchmarks
	$(VENV)/bin/ruff format --check applied_ml tests tutorials benchmarks

format: install
	$(VENV)/bin/ruff check --fix applied_ml tests tutorials benchmarks
	$(VENV)/bin/ruff format applied_ml tests tutorials benchmarks

# One pytest worker per core (at most 4): most tests are single-threaded
# Python work around small models. Groups keep a heavy shared fit on one worker.
test: lint data
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadgroup

demo: install
	$(PY) tutorials/penguins.py

bench: install data
	$(PY) -m pip install --quiet --no-deps "scikeras==0.13.0"
	$(PY) benchmarks/tabular_quality.py
	$(PY) benchmarks/tabular_speed.py
	$(PY) benchmarks/image_classification.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
