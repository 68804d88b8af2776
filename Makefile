# coursekit: two commands.  `make course` builds and grades the whole course offline;
# `make test` runs the whole test suite.  Both set up .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.coursekit-installed
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all setup course course-other-cpu test test-fast test-nonroot mutants lab browser hub-proxy clean help

help:
	@echo "make course  - set up, execute every lecture notebook, build + autograde the assignments (build/)"
	@echo "make test    - set up and run the whole test suite"
	@echo "make lab     - open JupyterLab on the course"
	@echo "make course-other-cpu - (maintainers) the lessons' claims as another CPU computes them (build-other-cpu/)"
	@echo "make mutants - (maintainers, before a release) plant one-line bugs; the tests must catch each"

# (Re)create the venv when it is missing or broken; reinstall when pyproject.toml changed.
$(STAMP): pyproject.toml
	@if ! $(BIN)/python -c 'import sys' >/dev/null 2>&1; then \
	    echo "creating $(VENV)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

setup: $(STAMP)

# Chromium for the browser test: Debian's package, installed when missing and installable.
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the browser test will fail in CI"; \
	  else echo "note: chromium not found; install it for the browser test (e.g. apt-get install chromium)"; fi; }

# configurable-http-proxy, JupyterHub's proxy, for the class test (tests/test_jupyterhub.py):
# from the npm registry into $(VENV)/chp when it is not on PATH (Node.js from apt-get if missing).
CHP := $(VENV)/chp/node_modules/.bin/configurable-http-proxy
hub-proxy:
	@command -v configurable-http-proxy >/dev/null 2>&1 || [ -x $(CHP) ] || { \
	  if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing npm (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null) || true; fi; \
	  if command -v npm >/dev/null 2>&1; then \
	    echo "installing configurable-http-proxy (npm) into $(VENV)/chp"; \
	    npm install --no-audit --no-fund --loglevel=error --prefix $(VENV)/chp configurable-http-proxy@5 >/dev/null \
	      || echo "warning: could not install configurable-http-proxy; the JupyterHub class test will skip"; \
	  else echo "note: npm not found; the JupyterHub class test needs configurable-http-proxy"; fi; }

course: setup
	$(BIN)/coursekit course

test: setup browser hub-proxy
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --durations=25

test-fast: setup
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m "not browser and not notebook"

# The whole suite as an ordinary user from a fresh clone of HEAD under a 0700 folder (issue 14);
# as root it runs as user $COURSEKIT_TEST_USER (default coursekit-test, created when missing). Not part
# of `make test`: a fresh venv, so minutes more.
test-nonroot:
	tools/test_nonroot.sh

# The lessons' claims as another CPU computes them (minutes more than `make course`: torch's
# non-vectorized kernels): float results differ in the last bits between CPUs (AVX2, AVX-512)
# and training amplifies them, so a claim must hold here too, not only on the machine that
# wrote it. Outputs in build-other-cpu/.
course-other-cpu: setup
	ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 NPY_DISABLE_CPU_FEATURES="X86_V3,X86_V4" \
	  $(BIN)/coursekit course --out build-other-cpu

# Mutation check (minutes; run before a release): one-line bugs the tests must catch.
mutants: setup
	$(BIN)/python tools/mutants.py

lab: setup
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf build build-other-cpu .pytest_cache
