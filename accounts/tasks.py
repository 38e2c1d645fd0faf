from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage


@shared_task(autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def send_password_reset(subject: str, body: str, to_email: str) -> None:
    """The staff password reset email, rendered by the request (accounts/forms.py)."""
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to_email]).send()
