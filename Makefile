# Safe Passage. `make run` serves the demo on the embedded default; `make test` runs every test.
# Both create the virtual environment in .venv/ and install into it when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed
LOCKS := requirements/base.txt requirements/dev.txt
# The translations (locale/<language>/LC_MESSAGES/django.po), compiled for Django to read.
MESSAGES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

export SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: run serve worker beat test coverage test-browser lint check demo admin clean help bench lock messages translations

help:
	@echo "make run     - install, migrate, load the demo and serve on http://$(HOST):$(PORT)"
	@echo "make test    - the whole test suite"
	@echo "make coverage - the test suite with a coverage report (var/coverage/index.html)"
	@echo "make serve   - gunicorn on PORT against the configured DATABASE_URL / REDIS_URL"
	@echo "make worker  - a Celery worker with beat (periodic tasks)"
	@echo "make lint    - ruff and the migrations check"
	@echo "make messages - find new translatable strings and add them to locale/*/django.po"
	@echo "make lock    - resolve pyproject.toml into requirements/*.txt (UPGRADE=\"pkg ...\" or all)"
	@echo "make bench   - load benchmark on gunicorn + PostgreSQL + Redis + Celery (needs wrk)"

# What is installed comes from the lock files, every file checked against its SHA-256, so two
# installs a month apart are the same; pyproject.toml declares, `make lock` resolves (README.md).
$(STAMP): pyproject.toml $(LOCKS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Safe Passage needs Python 3.11 or newer; found " + sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	@# The project itself, built with the locked setuptools (no unlocked download).
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Resolves pyproject.toml again into requirements/dev.txt (with the dev extra: make, CI) and
# requirements/base.txt (what runs, at the same versions: the Dockerfile), keeping every pin that
# still fits. UPGRADE="django fpdf2" moves those locked packages to their newest allowed release;
# UPGRADE=all every package.
LOCK_ARGS = --quiet --generate-hashes --allow-unsafe --strip-extras --build-deps-for editable \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

translations: $(MESSAGES)

# Each language's .po compiled by GNU gettext's msgfmt (what Django's compilemessages runs),
# checked on the way: a translation that drops or adds a %(placeholder)s fails here.
$(MESSAGES): %.mo: %.po
	@command -v msgfmt >/dev/null || { echo "compiling the translations needs msgfmt: apt-get install gettext"; exit 1; }
	msgfmt --check -o $@ $<

# The translatable strings found again in the code and templates, merged into each .po (new ones
# empty, for a translator; the tests fail until every one is translated).
messages: $(STAMP)
	$(PY) manage.py makemessages -l ko -l zh_Hans -l ja --add-location=file --no-obsolete \
		--ignore=.venv --ignore=var --ignore=staticfiles --ignore=tests --ignore=bench --ignore=docs

lock: $(STAMP)
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "make lock resolves for Python 3.11, as in the Dockerfile; this venv has " + sys.version.split()[0] + " (make clean lock PYTHON=python3.11)")'
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_ARGS) --extra dev \
		$(if $(filter all,$(UPGRADE)),--upgrade,$(addprefix --upgrade-package ,$(UPGRADE))) \
		--output-file requirements/dev.txt pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_ARGS) \
		--constraint requirements/dev.txt --output-file requirements/base.txt pyproject.toml

run: $(STAMP) $(MESSAGES)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@# Fonts for PDF documents: built once, in the background, while the site starts.
	@mkdir -p var && ($(PY) manage.py build_fonts > var/build_fonts.log 2>&1 &)
	@$(PY) manage.py ensure_admin
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver --noreload $(HOST):$(PORT)

serve: $(STAMP) $(MESSAGES)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py build_fonts
	$(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3} --access-logfile - --logger-class config.log_redaction.RedactingLogger --forwarded-allow-ips "$${FORWARDED_ALLOW_IPS:-127.0.0.1}"

worker: $(STAMP) $(MESSAGES)
	$(PY) manage.py build_fonts
	@# nice alone does not reach past this terminal's session: Linux weighs sessions (autogroups)
	@# against each other first, so the session itself is lowered too, where the kernel has them.
	-@echo $${WORKER_NICE:-10} 2>/dev/null > /proc/self/autogroup
	nice -n $${WORKER_NICE:-10} $(BIN)/celery -A config worker --beat --loglevel INFO --concurrency $${WORKER_CONCURRENCY:-2} --schedule var/celerybeat-schedule

beat: $(STAMP)
	$(BIN)/celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule

demo: $(STAMP) $(MESSAGES)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

test: $(STAMP) $(MESSAGES)
	$(BIN)/pytest $(PYTEST_ARGS)

coverage: $(STAMP) $(MESSAGES)
	$(BIN)/pytest --cov --cov-report=term --cov-report=html:var/coverage $(PYTEST_ARGS)

bench: $(STAMP) $(MESSAGES)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	$(PY) bench/load.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache $(MESSAGES)
