"""Logs without personal data or secrets: no client address in gunicorn's access log, and
confirmation links (whose token confirms a signature) shown without their identifier and token,
there and in Django's own logs ("Not Found: /confirm/…")."""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

ADDRESS_KEYS = ("remote_addr", "forwarded", "real-ip", "real_ip")
SECRET_PATH = re.compile(r"/confirm/[^/\s?]+/[^/\s?]+/")


def redact(text: str) -> str:
    return SECRET_PATH.sub("/confirm/…/", text)


class RedactSecrets(logging.Filter):
    """For the console handler: rewrites each record's message with confirmation links redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/confirm/" in message:
            record.msg, record.args = redact(message), ()
        return True


class RedactingLogger(Logger):
    """gunicorn's logger (--logger-class config.log_redaction.RedactingLogger)."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key == "h" or any(word in key for word in ADDRESS_KEYS):
                atoms[key] = "-"
            elif isinstance(value, str):
                atoms[key] = redact(value)
        return atoms
