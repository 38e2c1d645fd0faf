"""Password reset for staff, with the email sent by Celery, not in the request."""

from __future__ import annotations

from django.contrib.auth.forms import PasswordResetForm
from django.template import loader

from config.celery import queue

from .mail import send_password_reset


class CeleryPasswordResetForm(PasswordResetForm):
    """Django's form (it mails only active accounts with a password, and answers the same either
    way); the email is rendered here and handed to Celery as plain text. With the broker down
    the page answers the same and no email goes: the link is only good for a while anyway, and
    asking again sends one."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        queue(send_password_reset, subject, body, to_email)
