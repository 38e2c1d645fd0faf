"""Emails: templates/emails/<name>.subject.txt, .txt and .html, rendered and sent."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.encoding import punycode

from petitions.models import PLAIN_MAILBOX, validate_signer_email


def render_templated_email(name: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) for the named email."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}.subject.txt", context)
    # A subject is one line: a newline in a title must not become a header.
    subject = " ".join(subject.split())
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    return subject, text, html


def templated_email(name: str, context: dict, to: str, connection=None) -> EmailMultiAlternatives:
    """The named email to one address: its text, with the HTML as the alternative."""
    subject, text, html = render_templated_email(name, context)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [to], connection=connection
    )
    message.attach_alternative(html, "text/html")
    return message


def mailbox(address: str) -> str:
    """A signer's address as it is mailed, in To and in RCPT TO alike: checked again
    (models.validate_signer_email: a row saved before that check existed may hold anything),
    with its domain in IDNA form, so ASCII throughout (Django's mail gives such an address to
    the header and the envelope as it is). Raises ValidationError for an address that must not
    be mailed."""
    if PLAIN_MAILBOX.match(address):
        return address
    validate_signer_email(address)
    local, _, domain = address.rpartition("@")
    return f"{local}@{punycode(domain)}"
