# DataFlare developer commands. `make demo` and `make test` are the README's contract.
# `make setup` makes .venv (Debian's system Python refuses `pip install`); every target
# then runs in it. Without .venv the python3 on PATH is used, so CI (.ci/run installs into
# its own environment) and an activated virtualenv work as before.
VENV := .venv
BASE_PYTHON ?= python3
PYTHON ?= $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,python3)
# The venv's tools (componentize-py for the guest Makefiles, `dataflare` for tests that
# run the CLI) must be found as if it were activated; a missing directory is harmless.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
VENV_HINT := could not create $(VENV); on Debian/Ubuntu: apt-get install python3-venv, then make setup
GUEST_LANGS := $(notdir $(patsubst %/Makefile,%,$(wildcard guest-examples/*/Makefile)))

.PHONY: setup guests demo test test-fast lint bindings bench bench-record clean

setup:  ## create .venv (once) and install the host and the dev tools into it
	@# A failed venv (no ensurepip) still has bin/python: remove it so targets don't pick it.
	@test -x $(VENV)/bin/python || $(BASE_PYTHON) -m venv $(VENV) \
		|| { rm -rf $(VENV); echo "$(VENV_HINT)" >&2; exit 1; }
	$(VENV)/bin/python -m pip install -e '.[dev,dask]'

guests:  ## build every guest example into build/guests/<lang>/
	@for lang in $(GUEST_LANGS); do $(MAKE) -C guest-examples/$$lang all || exit 1; done

demo:  ## run the bundled demo pipeline (no server needed)
	$(MAKE) -C guest-examples/python all
	$(PYTHON) -m dataflare.demo

lint:  ## ruff and mypy --strict on the host
	$(PYTHON) -m ruff check host tests bench
	$(PYTHON) -m ruff format --check host
	$(PYTHON) -m mypy

test: lint  ## every test (lint first: it is the cheapest failure)
	$(PYTHON) -m pytest --durations=25

test-fast:  ## the quick loop: no guest builds, no database servers, nothing slow (no toolchain needed)
	$(PYTHON) -m pytest -m "not guests and not postgres and not redis and not slow"

bindings:  ## regenerate the checked-in WIT bindings for our worlds (0.2.0, and 0.1.0 still loaded)
	$(PYTHON) -m dataflare bindgen wit -o host/dataflare/_wit
	$(PYTHON) -m dataflare bindgen wit/v0.1.0 -o host/dataflare/_wit_v0_1

bench:  ## benchmarks: prints the tables, writes build/bench/RESULTS.md (RECORD=1: bench/RESULTS.md)
	$(PYTHON) bench/run.py $(if $(filter-out 0,$(RECORD)),--record)

bench-record: RECORD = 1
bench-record: bench  ## benchmarks, recorded in the tracked bench/RESULTS.md the README quotes

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
