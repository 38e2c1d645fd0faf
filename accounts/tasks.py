from __future__ import annotations

from config.celery import task

from . import mail


@task(mail.send_password_reset, autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def send_password_reset(subject: str, body: str, to_email: str) -> None:
    mail.send_password_reset(subject, body, to_email)
