"""Writing to the audit log: who did what, when, to what, and how much."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.utils import translation

from config.web import client_ip, network_of

from .models import AuditEvent, Organisation


def record(
    actor: Any,
    action: str,
    organisation: Organisation | None,
    target: object,
    **detail: Any,
) -> AuditEvent:
    """Append an event. `actor` is a user, or None for the command line and tasks. The log is
    written in the site's language, whatever language the admin is shown in (a target's name
    may hold a translated label)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    with translation.override(settings.LANGUAGE_CODE):
        if actor is not None and user is None:
            detail.setdefault("by", str(actor))
        return AuditEvent.objects.create(
            actor=user,
            organisation=organisation,
            action=action,
            target=str(target)[:200],
            detail=detail,
        )


# Who is acting, for events recorded where the state changes (a model's signal) rather than in
# a view: the user of the request being answered (AuditActorMiddleware), or None in the shell,
# a management command or a task.
_acting: ContextVar[Any] = ContextVar("audit actor", default=None)


@contextmanager
def acting_as(actor: Any) -> Iterator[None]:
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def current_actor() -> Any:
    return _acting.get()


def network(request) -> str:
    """What the audit log keeps of where a request came from: its network, never the address
    (config/web.py: through TRUSTED_PROXIES, /24 or /48)."""
    return network_of(client_ip(request)) if request is not None else ""
