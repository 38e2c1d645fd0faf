"""Logs without personal data or secrets, whichever process, logger, handler or format writes them.

Every log record is created by logging's record factory, so that is where the redaction sits:
`install()` wraps it, and runs when Django configures logging (settings.LOGGING_CONFIG), which
every process does before it logs a request or a task: runserver (`make run`), gunicorn's
workers, Celery's worker and beat, management commands. gunicorn's logger class installs it
too, for its own processes. A record's message (and its traceback) is rewritten before any
handler sees it:

1. confirmation links (`/confirm/<uuid>/<token>`, with or without the last slash) and password
   reset links (`/admin/reset/<uidb64>/<token>/`) lose what follows the prefix: the token is a
   key to a signature or an account;
2. query strings keep their parameter names and lose their values: staff search signers by
   name, address and network (`?q=`, `?email=`, `?email__regex=`);
3. email addresses are replaced wherever they are, in a message or in a traceback (a database
   error or an SMTP refusal quotes the address).

Percent-encoded text is decoded first where it hides any of these (`%2Fconfirm%2F…`, `%40`).
gunicorn's access log is a record like any other; `RedactingLogger` also keeps the client's
address, cookies and credentials out of its atoms, and redacts the bare query string atom.
"""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import Callable
from urllib.parse import unquote

from gunicorn.glogging import Logger

CONFIRM_PATH = re.compile(r"/confirm/[^\s\"'<>?#]+", re.IGNORECASE)
RESET_PATH = re.compile(r"/reset/(?!done/)[^\s\"'<>?#]+", re.IGNORECASE)
QUERY = re.compile(r"(/[^\s\"'<>?#]*)\?([^\s\"'<>#]+)")
EMAIL = re.compile(
    r"[^\s@\"'<>()\[\]{},;:/\\]+@(?:\[[^\]\s]*\]|[\w-]+(?:\.[\w-]+)+)",
)
ENCODED = re.compile(r"[^\s\"'<>]*%[0-9A-Fa-f]{2}[^\s\"'<>]*")
HIDDEN = "…"


def redact(text: str) -> str:
    """`text` with secrets and addresses taken out (see the module's docstring)."""
    if "%" in text:
        text = ENCODED.sub(_decoded_if_it_hides_something, text)
    return _redact_plain(text)


def redact_query(query: str) -> str:
    """A query string (without its "?") with each parameter's value taken out."""
    return "&".join(
        f"{name}={HIDDEN}" if sep else HIDDEN
        for name, sep, _value in (part.partition("=") for part in query.split("&"))
    )


def _redact_plain(text: str) -> str:
    if "/" in text:
        text = CONFIRM_PATH.sub(f"/confirm/{HIDDEN}/", text)
        text = RESET_PATH.sub(f"/reset/{HIDDEN}/", text)
        if "?" in text:
            text = QUERY.sub(lambda m: f"{m[1]}?{redact_query(m[2])}", text)
    if "@" in text:
        text = EMAIL.sub(f"{HIDDEN}@{HIDDEN}", text)
    return text


def _decoded_if_it_hides_something(match: re.Match) -> str:
    """A percent-encoded word, decoded (at most three times over) and redacted if the decoded
    form shows a secret or an address; otherwise left as it was."""
    word = decoded = match[0]
    for _ in range(3):
        once_more = unquote(decoded)
        if once_more == decoded:
            break
        decoded = once_more
    redacted = _redact_plain(decoded)
    return redacted if redacted != decoded else word


_traceback_formatter = logging.Formatter()


def _redacting(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it when a handler formats it
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters use exc_text when it is set rather than format the exception again.
            record.exc_text = redact(_traceback_formatter.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    make_record.redacts = True
    return make_record


def install() -> None:
    """Redact every log record this process creates from now on (once, however often called)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacts", False):
        logging.setLogRecordFactory(_redacting(factory))


def configure(logging_settings: dict) -> None:
    """settings.LOGGING_CONFIG: the redaction first, then settings.LOGGING."""
    install()
    logging.config.dictConfig(logging_settings)


# gunicorn's atoms that name the client or carry credentials: left out of the access log.
HIDDEN_ATOMS = ("remote_addr", "forwarded", "real-ip", "real_ip", "cookie", "authorization")


class RedactingLogger(Logger):
    """gunicorn's logger (--logger-class config.log_redaction.RedactingLogger)."""

    def setup(self, cfg) -> None:
        install()
        super().setup(cfg)

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key == "h" or any(word in key for word in HIDDEN_ATOMS):
                atoms[key] = "-"
            elif key in ("q", "{query_string}e") and value:
                atoms[key] = redact_query(value)
        return atoms
