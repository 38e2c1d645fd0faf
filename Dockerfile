# The real stack's image: gunicorn for `web`, Celery for `worker` (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends make gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# What runs, from the runtime lock (no dev tools), every file checked against its hash: the same
# packages in every build until `make lock` changes the lock. Copied alone, so a change to the
# code reuses this layer.
COPY requirements/base.txt requirements/base.txt
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir --require-hashes -r requirements/base.txt
COPY . .
# The project itself, built with the locked setuptools; the stamp tells make it is installed.
RUN .venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation -e . && touch .venv/.installed
# The translations, compiled (locale/*/LC_MESSAGES/django.mo).
RUN make translations
RUN useradd --create-home app && mkdir -p var && chown -R app var
USER app
EXPOSE 8000
CMD ["make", "serve", "HOST=0.0.0.0"]
