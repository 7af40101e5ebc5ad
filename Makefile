# The two commands of the README:
#   make lab    set up, then open JupyterLab on a working copy of the quick-start notebook
#               (in $(LAB_DIR)/, git-ignored; works offline)
#   make test   set up, then run lint and every test (what CI runs)

VENV ?= .venv
LAB_DIR ?= lab
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := chromium gnome-keyring dbus-daemon
.DEFAULT_GOAL := help

help:
	@echo "make lab    - set up and open JupyterLab on working copies of the notebooks ($(LAB_DIR)/)"
	@echo "make test   - set up and run lint + all tests"
	@echo "make bench  - print the benchmark table"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# Browser and keyring for the end-to-end and Secret Service tests (Debian/Ubuntu, as root).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v gnome-keyring-daemon >/dev/null || missing="$$missing gnome-keyring"; \
	command -v dbus-run-session >/dev/null || missing="$$missing dbus-daemon"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else \
	    echo "note: install$$missing (e.g. sudo apt-get install $(SYSTEM_PACKAGES)) to run the browser and keyring tests"; \
	  fi; \
	fi

# As root (containers), Jupyter refuses to start without --allow-root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# JupyterLab autosaves what it opens, outputs and all: it gets working copies in a git-ignored
# folder, so running the notebooks never changes a tracked file (nor breaks `make test`).
# A copy that exists is kept (it is the user's work); delete it to get a fresh one.
lab-notebooks:
	@mkdir -p $(LAB_DIR)
	@for nb in notebooks/*.ipynb; do \
	  [ -e "$(LAB_DIR)/$${nb##*/}" ] || cp "$$nb" "$(LAB_DIR)/"; \
	done
	@echo "Working copies of the notebooks are in $(LAB_DIR)/ (git-ignored: run and save them freely;"
	@echo "notebooks/ is never changed). Delete a copy to start it afresh."

lab: setup lab-notebooks
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) $(LAB_DIR)/quickstart.ipynb

test: setup system-deps
	$(VENV)/bin/ruff check takopi_nb tests benchmarks
	$(VENV)/bin/ruff format --check takopi_nb tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

bench: setup
	$(PY) benchmarks/run.py

.PHONY: help setup system-deps lab-notebooks lab test bench
