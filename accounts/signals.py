"""Logins in the audit log: who signed in or out, and failed attempts, with the network they came
from (never the whole address, never the password)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs) -> None:
    audit.record(user, "logged in", None, user, network=audit.network(request))


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record(user, "logged out", None, user, network=audit.network(request))


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit.record(None, "login failed", None, username, network=audit.network(request))
