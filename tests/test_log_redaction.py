"""No log line, whichever process, logger or handler writes it, shows a confirmation or password
reset token, the values of a query string, or an email address (config/log_redaction.py)."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.error import HTTPError
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pytest
from celery.utils.log import get_task_logger
from gunicorn.config import Config

from config.log_redaction import RedactingLogger, redact
from petitions.tasks import send_confirmation

ROOT = Path(__file__).resolve().parent.parent
UUID = "9b2f6c1e-8d4a-4f8e-9c3b-2a1d5e6f7a8b"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
RESET_TOKEN = "cz3k9q-5e1d6f7a8b9c0d1e2f3a4b5c6d7e8f9a"
ADDRESS = "kim.min-ji@example.org"
# What must never be in a log: the pieces of the secrets and of the address.
SECRETS = (UUID, TOKEN, RESET_TOKEN, "kim.min-ji", "%40example", "@example.org", "%5Ea")


def assert_nothing_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} is in the log:\n{text}"


@pytest.mark.parametrize(
    ("logged", "kept"),
    [
        (f"GET /confirm/{UUID}/{TOKEN}/ HTTP/1.1", "GET /confirm/…/ HTTP/1.1"),
        (f"GET /confirm/{UUID}/{TOKEN} HTTP/1.1", "GET /confirm/…/ HTTP/1.1"),
        (f"GET /confirm%2F{UUID}%2F{TOKEN} HTTP/1.1", "GET /confirm/…/ HTTP/1.1"),
        (f"GET /c%6Fnfirm/{UUID}/{TOKEN}/ HTTP/1.1", "GET /confirm/…/ HTTP/1.1"),
        (f"GET /%2563onfirm/{UUID}/{TOKEN}/ HTTP/1.1", "GET /confirm/…/ HTTP/1.1"),
        (f"Not Found: /CONFIRM/{UUID}/{TOKEN}/x", "Not Found: /confirm/…/"),
        (f'"https://a.example/confirm/{UUID}/{TOKEN}/"', '"https://a.example/confirm/…/"'),
        (f"GET /admin/reset/MQ/{RESET_TOKEN}/ HTTP/1.1", "GET /admin/reset/…/ HTTP/1.1"),
        ("GET /admin/reset/MQ/set-password/ HTTP/1.1", "GET /admin/reset/…/ HTTP/1.1"),
        (
            "GET /admin/petitions/signature/?q=kim.min-ji%40example.org&p=2 HTTP/1.1",
            "GET /admin/petitions/signature/?q=…&p=… HTTP/1.1",
        ),
        (
            "GET /admin/petitions/signature/?id=16&email__regex=%5Ea HTTP/1.1",
            "GET /admin/petitions/signature/?id=…&email__regex=… HTTP/1.1",
        ),
        ("GET /admin/?email=kim@example.org", "GET /admin/?email=…"),
        ("GET /admin/login/?next=/admin/%3Fq%3Dkim", "GET /admin/login/?next=…"),
        ("GET /petitions.json?kim@example.org", "GET /petitions.json?…"),
        (f"sending to {ADDRESS} failed", "sending to …@… failed"),
        (f"Not Found: /petitions/{ADDRESS}/", "Not Found: /petitions/…@…/"),
        ("Not Found: /petitions/kim.min-ji%40example.org/", "Not Found: /petitions/…@…/"),
        (
            f"DETAIL:  Key (petition_id, email_canonical)=(1, {ADDRESS}) already exists.",
            "DETAIL:  Key (petition_id, email_canonical)=(1, …@…) already exists.",
        ),
        (f"Refused({{'{ADDRESS}': (550, b'no')}})", "Refused({'…@…': (550, b'no')})"),
        ("refused user@[203.0.113.7]", "refused …@…"),
        ("김민지@예시.한국 signed", "…@… signed"),
    ],
)
def test_secrets_and_addresses_are_taken_out(logged, kept):
    assert redact(logged) == kept


@pytest.mark.parametrize(
    "logged",
    [
        "petition 3 count drifted: 99 -> 3",
        '- - - [01/Jan/2026:10:00:00 +0000] "GET /petitions/a/ HTTP/1.1" 200 512 "-" "Mozilla/5"',
        "GET /admin/reset/done/ HTTP/1.1",
        "GET /confirm/ HTTP/1.1",
        "building font instance NotoSans 700: 100% done",
        "GET /static/css/site.css HTTP/1.1",
        "Is the broker up? /health says no",
        "",
    ],
)
def test_a_message_without_secrets_is_left_as_it_was(logged):
    assert redact(logged) == logged


def test_djangos_request_log_shows_no_token_and_no_address(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(f"/confirm/{UUID}/{TOKEN}/again/")
        client.get(f"/petitions/{ADDRESS}/")

    assert "Not Found: /confirm/…/" in caplog.text
    assert "Not Found: /petitions/…@…/" in caplog.text
    assert_nothing_secret_in(caplog.text)


def test_plain_logging_and_tracebacks_show_no_address(caplog):
    log = logging.getLogger("petitions.anything")
    with caplog.at_level(logging.INFO):
        log.info("mail for %s bounced", ADDRESS)
        try:
            raise ValueError(f"Key (email_canonical)=({ADDRESS}) already exists.")
        except ValueError:
            log.exception("could not save signature %s", 16)
        logging.getLogger().warning("root logger: %s", f"/confirm/{UUID}/{TOKEN}")

    assert "mail for …@… bounced" in caplog.text
    assert "ValueError: Key (email_canonical)=(…@…) already exists." in caplog.text
    assert "root logger: /confirm/…/" in caplog.text
    assert_nothing_secret_in(caplog.text)


def test_a_celery_task_logger_and_a_failing_tasks_report_show_no_address(db, caplog):
    with caplog.at_level(logging.INFO):
        get_task_logger("petitions.tasks").warning("retrying %s", ADDRESS)
        # Celery reports a failed task with its exception and traceback: here the exception
        # quotes the argument, as a database or SMTP error quotes an address.
        send_confirmation.apply(args=[ADDRESS])

    assert "retrying …@…" in caplog.text
    assert "expected a number but got '…@…'" in caplog.text
    assert_nothing_secret_in(caplog.text)


def test_the_gunicorn_access_line_keeps_no_client_address_cookie_token_or_query_value():
    config = Config()
    config.set("accesslog", "-")
    # The default format and the atoms a site might add: the query alone, cookies, proxies.
    config.set(
        "access_log_format",
        '%(h)s %(t)s "%(r)s" %(s)s "%(f)s" %(q)s %({cookie}i)s %({x-forwarded-for}i)s '
        "%({remote_addr}e)s",
    )
    logger = RedactingLogger(config)
    written = io.StringIO()
    logger.access_log.addHandler(logging.StreamHandler(written))
    request = SimpleNamespace(
        headers=[
            ("X-FORWARDED-FOR", "198.51.100.9"),
            ("COOKIE", "sessionid=s3cr3t"),
        ]
    )
    response = SimpleNamespace(status="302 Found", sent=0, headers=[])
    environ = {
        "REMOTE_ADDR": "203.0.113.7",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/admin/petitions/signature/?q=kim.min-ji%40example.org&email__regex=%5Ea",
        "PATH_INFO": "/admin/petitions/signature/",
        "QUERY_STRING": "q=kim.min-ji%40example.org&email__regex=%5Ea",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://sign.example.org/confirm/{UUID}/{TOKEN}",
    }

    logger.access(response, request, environ, timedelta(milliseconds=3))

    line = written.getvalue()
    assert '"GET /admin/petitions/signature/?q=…&email__regex=… HTTP/1.1" 302' in line
    assert '"https://sign.example.org/confirm/…/"' in line
    assert " q=…&email__regex=… - - -" in line
    assert line.startswith("- [")
    for hidden in ("203.0.113.7", "198.51.100.9", "s3cr3t"):
        assert hidden not in line
    assert_nothing_secret_in(line)


# --- the servers, as `make run` and `make serve` start them --------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def visit_with_secrets(base: str) -> None:
    """The requests that used to put tokens and addresses in the logs."""
    opener = build_opener(NoRedirects)
    for path in (
        f"/confirm/{UUID}/{TOKEN}",  # without the last slash: redirected, and logged
        f"/confirm/{UUID}/{TOKEN}/x/",
        f"/c%6Fnfirm/{UUID}/{TOKEN}/",
        "/admin/petitions/signature/?q=kim.min-ji%40example.org&email__regex=%5Ea",
        f"/admin/reset/zz/{RESET_TOKEN}/",
        f"/petitions/{ADDRESS}/",
    ):
        request = Request(base + path, headers={"X-Forwarded-For": "198.51.100.9"})
        try:
            opener.open(request, timeout=20).close()
        except HTTPError as error:
            error.close()


def run_server(command: list[str], port: int, tmp_path: Path, **env: str) -> str:
    """Start a server process, send it the requests above, stop it; return what it printed."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "SITE_"))
    }
    output = tmp_path / "server.log"
    with output.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={
                **clean,
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "SAFE_PASSAGE_VAR_DIR": str(tmp_path),
                "SITE_URL": f"http://127.0.0.1:{port}",
                "PYTHONUNBUFFERED": "1",
                **env,
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, output.read_text()
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.2)
        visit_with_secrets(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=20)
    return output.read_text(errors="replace")


def test_runserver_as_make_run_starts_it_logs_requests_without_secrets(tmp_path):
    port = free_port()
    logged = run_server(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        port,
        tmp_path,
        DJANGO_DEBUG="1",
    )

    assert '"GET /confirm/…/ HTTP/1.1" 301' in logged  # django.server's own line
    assert "Not Found: /confirm/…/" in logged  # django.request's
    assert "/admin/petitions/signature/?q=…&email__regex=… HTTP/1.1" in logged
    assert "/admin/reset/…/" in logged
    assert_nothing_secret_in(logged)


def test_gunicorn_as_make_serve_starts_it_logs_requests_without_secrets_or_addresses(tmp_path):
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    logged = run_server(
        [
            str(gunicorn),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            "-",
            "--logger-class",
            "config.log_redaction.RedactingLogger",
        ],
        port,
        tmp_path,
    )

    assert '"GET /confirm/…/ HTTP/1.1" 301' in logged  # the access log
    assert "Not Found: /confirm/…/" in logged  # django.request, in the worker
    assert "/admin/petitions/signature/?q=…&email__regex=… HTTP/1.1" in logged
    assert "198.51.100.9" not in logged
    assert_nothing_secret_in(logged)
