"""A bad value in the environment stops start-up with a message naming the variable."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start(tmp_path, code: str = "print('started')", **env: str) -> subprocess.CompletedProcess:
    """Start Django in a fresh process with only the given variables of ours set."""
    return run(tmp_path, ["-c", "import django; django.setup(); " + code], **env)


def run(tmp_path, arguments: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run Python with `arguments` in a fresh process with only the given variables of ours."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "SITE_"))
    }
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SAFE_PASSAGE_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_defaults_start(tmp_path):
    result = start(tmp_path)

    assert result.stdout.strip() == "started", result.stderr
    assert (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("EMAIL_PORT", "smtp"),
        ("EMAIL_PORT", "99999"),
        ("EMAIL_USE_TLS", "sometimes"),
        ("REDIS_URL", "localhost:6379"),
        ("SITE_URL", "example.org"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("DJANGO_SECRET_KEY", "short"),
        ("CONFIRMATION_EMAILS_MAX", "0"),
        ("EXPORT_RETENTION_DAYS", "0"),
        ("EXPORT_RETENTION_DAYS", "a week"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, variable, value):
    result = start(tmp_path, **{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_email_goes_to_files_without_a_host_and_over_smtp_with_one(tmp_path):
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND)"

    # Django's file backend, writing private files (config/private_files.py).
    files = start(tmp_path, code).stdout.strip()
    assert files == "config.private_files.FileEmailBackend"
    smtp = start(tmp_path, code, EMAIL_HOST="smtp.example.org").stdout.strip()
    assert smtp == "django.core.mail.backends.smtp.EmailBackend"


PRODUCTION = {
    "SITE_URL": "https://sign.example.org",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_DEBUG": "0",
}


def test_an_https_site_passes_djangos_deployment_checks(tmp_path):
    result = run(
        tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_an_https_site_redirects_to_https_and_asks_for_it_for_a_year(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )

    assert start(tmp_path, code, **PRODUCTION).stdout.split() == [
        "True", "31536000", "True", "True", "True"
    ]  # fmt: skip
    # make run's http://127.0.0.1 is served as it is.
    assert start(tmp_path, code).stdout.split() == ["False", "0", "False", "False", "False"]
