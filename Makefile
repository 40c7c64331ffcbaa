# Probity: `make run` starts everything on this machine; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000

.PHONY: run test install install-dev browser model clean

# Debian's Chromium for the browser tests (never a downloaded browser build).
CHROMIUM := /usr/bin/chromium

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The page script's NaCl (tweetnacl) and the accessibility checker come from npm, pinned by the lockfile.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Translations: compiled from the .po catalogs under translations/.
translations/.compiled: $(VENV)/.installed $(wildcard translations/*/LC_MESSAGES/messages.po)
	$(VENV)/bin/pybabel compile --statistics -d translations 2>&1 | tail -n 5
	touch $@

# The triage model: trained from the corpus here, with its progress on screen, rather than by the
# first worker that needs it (the first training also distils the meaning vectors, about 40 s).
MODEL := instance/model/classifier.joblib
$(MODEL): $(VENV)/.installed triage/taxonomy.json $(wildcard triage/corpus/*.jsonl) \
          triage/train.py triage/model.py triage/semantic.py triage/language.py
	$(PY) -m triage.train

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed node_modules/.installed translations/.compiled

model: $(MODEL)

install-dev: install $(VENV)/.installed-dev browser

browser:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install $(MODEL)
	PORT=$(PORT) $(PY) -m core.quickstart

test: install-dev $(MODEL)
	$(PY) -m pytest -p no:cacheprovider

clean:
	rm -rf $(VENV) instance .pytest_cache
