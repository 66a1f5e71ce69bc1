# bltanalytics: `make help` lists the targets.
PYTHON ?= python3
SAMPLE ?= data/sample

.PHONY: help install browser run test lint benchmark

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install:  ## install the package with its test tools (pip), Debian's chromium and poppler-utils for tests
	$(PYTHON) -m pip install -q -e ".[test]"
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || $(MAKE) browser

browser:  ## install Debian's chromium (Playwright drives it; also prints PDFs) and poppler-utils (pdftotext), root or sudo
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium poppler-utils

run: install  ## install, then run the main job on the sample district: reports/index.html
	bltanalytics reports $(SAMPLE) --out reports

test:  ## run the whole test suite (unit, property, notebook, browser)
	$(PYTHON) -m pytest

lint:  ## ruff lint (with complexity) and format check, as CI runs it
	ruff check bltanalytics tests benchmarks
	ruff format --check bltanalytics tests benchmarks

benchmark:  ## run the benchmarks and write docs/benchmarks.md
	$(PYTHON) -m benchmarks
