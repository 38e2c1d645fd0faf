"""A limit on wrong passwords for one username from everywhere together, beside django-axes'
limit for one username from one client.

axes refuses a (username, client) pair after LOGIN_FAILURE_LIMIT wrong passwords, so a guesser
spread over many addresses was never held. Here a username is refused once it has had
LOGIN_USERNAME_FAILURE_LIMIT failed logins within the last LOGIN_USERNAME_LOCKOUT_MINUTES,
from anywhere, until they are older than that. A stranger can set this off for anyone's
username, so it must not keep the owner out: its threshold is higher and its lock short, and
it never applies from a network the user has signed in from within LOGIN_KNOWN_NETWORK_DAYS
(their office, their home), which a stranger cannot choose. The failures and the sign-ins are
the audit log's own events (accounts/signals.py), so nothing else is kept.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from . import audit
from .models import AuditEvent


class UsernameLockoutBackend:
    """Authenticates nobody; refuses a locked-out username before the password is checked.
    Listed after axes' backend and before Django's ModelBackend. (No get_user(): sessions are
    the ModelBackend's.)"""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is not None and username and is_locked_out(request, str(username)):
            request.axes_locked_out = True  # axes' middleware answers with the lockout page
            raise PermissionDenied  # stops authenticate(); it signals a failed login
        return None


def is_locked_out(request: HttpRequest, username: str) -> bool:
    """Whether logins as username are refused from where this request comes from."""
    now = timezone.now()
    failures = AuditEvent.objects.filter(
        action="login failed",
        target=username[:150],
        created_at__gte=now - timedelta(minutes=settings.LOGIN_USERNAME_LOCKOUT_MINUTES),
    )
    limit = settings.LOGIN_USERNAME_FAILURE_LIMIT
    if failures.values("pk")[:limit].count() < limit:  # counts no further than the limit
        return False
    network = audit.network(request)
    return not (
        network
        and AuditEvent.objects.filter(
            action="logged in",
            actor__username=username,
            detail__network=network,
            created_at__gte=now - timedelta(days=settings.LOGIN_KNOWN_NETWORK_DAYS),
        ).exists()
    )
