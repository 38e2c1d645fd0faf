from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage


def send_password_reset(subject: str, body: str, to_email: str) -> None:
    """The staff password reset email, rendered by the request (accounts/forms.py)."""
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to_email]).send()
