"""Middleware of the accounts app."""

from __future__ import annotations

from . import audit


class AuditActorMiddleware:
    """The audit log names the user of the request for what is recorded where the state changes
    (accounts/signals.py), not in the view. request.user stays lazy until an event needs it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with audit.acting_as(request.user):
            return self.get_response(request)
