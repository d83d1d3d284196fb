# The two commands of the README: `make serve` and `make test`.
# Each sets up a virtualenv from setup.cfg's pinned dependencies on first use.
VENV ?= .venv
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

$(STAMP): setup.cfg pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

.PHONY: install serve test
install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/tariff serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(VENV)/bin/tariff validate policies
	$(VENV)/bin/python -m pytest
