# The real stack's image: gunicorn for `web`, Celery for `worker` (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -e . && touch .venv/.installed
RUN useradd --create-home app && mkdir -p var && chown -R app var
USER app
EXPOSE 8000
CMD ["make", "serve", "HOST=0.0.0.0"]
