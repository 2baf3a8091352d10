# One Makefile that the README, developers and CI all call.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-fast bench lint chromium clean

## setup: Python environment (pinned by constraints.txt) and Debian's Chromium.
setup: $(STAMP) chromium

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## chromium: Playwright cannot download its own browser here; use Debian's.
chromium:
	@if [ -x /usr/bin/chromium ] || [ -n "$$RPA_BROWSER__EXECUTABLE_PATH" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else echo "Chromium missing: install Debian's 'chromium' or set RPA_BROWSER__EXECUTABLE_PATH" >&2; exit 1; fi

## demo: the main job against the local sandbox systems (Ctrl-C stops everything).
demo: setup
	$(BIN)/rpa demo

## test: the whole suite (CI runs exactly this through .ci/run), on two pytest-xdist workers: the
## long subprocess tests (demo, crash, multiworker) overlap with the in-process ones; slow and
## browser tests are handed out first; the Prefect tests run together on one worker, one test
## server per run (tests/conftest.py). Three workers were not faster in back-to-back runs
## (benchmarks/RESULTS.md, session 5); `make test TEST_WORKERS=3` to try again.
TEST_WORKERS ?= 2
test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser"

## bench: every benchmark under benchmarks/ (prints the figures RESULTS.md records).
bench: setup
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python -m benchmarks

lint: setup
	$(BIN)/python -m ruff check .

clean:
	rm -rf $(VENV) data .pytest_cache
