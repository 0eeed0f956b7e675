# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-openapi test-fast lint bench package chromium screenshots clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## the API on :8000, the demo site on :8001, embedded AWS emulation
	$(BIN)/python manage.py serve

# Two workers (pytest-xdist), each test file on one worker so module fixtures (a running
# service, a browser) are shared as before. Schemathesis names every generated operation test
# alike, and xdist would run one of them only: that file runs in its own process, beside the
# linters (two single-core jobs on the two cores, output kept apart), before the rest.
test: $(STAMP) chromium  ## the whole suite, as CI runs it (browser tests included)
	$(MAKE) --no-print-directory -j2 --output-sync=target lint test-openapi
	$(BIN)/python -m pytest -n 2 --dist loadfile --ignore=tests/live/test_openapi.py

test-openapi: $(STAMP)
	$(BIN)/python -m pytest tests/live/test_openapi.py

test-fast: $(STAMP)  ## the fast tier: the domain with in-memory fakes, no AWS emulation
	$(BIN)/python -m pytest tests/fast

# The browser tests drive Debian's Chromium (never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-wqy-microhei >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

package: $(STAMP)  ## the deployment zip, as `chalice deploy` would build it
	$(BIN)/chalice package --stage prod build/package

screenshots: $(STAMP) chromium  ## regenerate docs/images from the running demo
	$(BIN)/python -m tests.e2e.screenshots

clean:
	rm -rf $(VENV) build outbox test-artifacts .pytest_cache .mypy_cache .ruff_cache
