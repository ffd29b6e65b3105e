# DataFlare developer commands. `make demo` and `make test` are the README's contract.
PYTHON ?= python3
GUEST_LANGS := $(notdir $(patsubst %/Makefile,%,$(wildcard guest-examples/*/Makefile)))

.PHONY: setup guests demo test test-fast lint bindings bench clean

setup:  ## install the host and the dev tools into the current Python
	$(PYTHON) -m pip install -e '.[dev]'

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
	$(PYTHON) -m pytest

test-fast:  ## the quick loop: no guest builds, no PostgreSQL, nothing slow (no toolchain needed)
	$(PYTHON) -m pytest -m "not guests and not postgres and not slow"

bindings:  ## regenerate the checked-in WIT bindings for our worlds (0.2.0, and 0.1.0 still loaded)
	$(PYTHON) -m dataflare bindgen wit -o host/dataflare/_wit
	$(PYTHON) -m dataflare bindgen wit/v0.1.0 -o host/dataflare/_wit_v0_1

bench:  ## benchmarks; prints the README table
	$(PYTHON) bench/run.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
