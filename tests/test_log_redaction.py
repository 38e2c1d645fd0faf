from __future__ import annotations

from types import SimpleNamespace

from gunicorn.config import Config

from config.log_redaction import RedactingLogger, RedactSecrets


def test_the_access_log_keeps_no_address_and_no_confirmation_token():
    logger = RedactingLogger(Config())
    path = "/confirm/9b2f6c1e-8d4a-4f8e-9c3b-2a1d5e6f7a8b/0123456789abcdef0123456789abcdef01234567/"
    request = SimpleNamespace(
        method="POST",
        path=path,
        query="",
        version=(1, 1),
        headers=[("X-FORWARDED-FOR", "198.51.100.9")],
        uri=path,
    )
    response = SimpleNamespace(status="302 Found", sent=0, headers=[], response_length=0)
    environ = {
        "REMOTE_ADDR": "203.0.113.7",
        "REQUEST_METHOD": "POST",
        "RAW_URI": path,
        "PATH_INFO": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    from datetime import timedelta

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))

    logged = " ".join(str(v) for v in atoms.values())
    assert "203.0.113.7" not in logged and "198.51.100.9" not in logged
    assert "9b2f6c1e" not in logged and "0123456789abcdef" not in logged
    assert atoms["U"] == "/confirm/…/"


def test_djangos_own_logs_do_not_show_a_confirmation_token():
    import logging

    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/confirm/abc/def0/",),
        None,
    )

    assert RedactSecrets().filter(record)
    assert record.getMessage() == "Not Found: /confirm/…/"
