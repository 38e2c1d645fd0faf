"""Emails: templates/emails/<name>.subject.txt, .txt and .html, rendered and sent."""

from __future__ import annotations

import uuid
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import DNS_NAME, sanitize_address
from django.template.loader import render_to_string


def render_templated_email(name: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) for the named email."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}.subject.txt", context)
    # A subject is one line: a newline in a title must not become a header.
    subject = " ".join(subject.split())
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    return subject, text, html


def templated_email(rendered: tuple[str, str, str], to: str, connection=None):
    subject, text, html = rendered
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [to], connection=connection
    )
    message.attach_alternative(html, "text/html")
    return message


class Composer:
    """Renders each email once per petition and fills in what differs between signers: a batch
    of 200 emails renders its templates once, not 200 times. The stand-ins are random, so no
    title can contain them.

    wire() goes further, for sending over SMTP: it builds and encodes the whole message once
    (Python's email package takes most of the time an email costs) and puts the recipient, the
    link and a new Message-ID into the bytes. The parts are sent as UTF-8 "8bit", so the
    stand-ins are in the bytes as they were written; if an encoding ever hid one, wire()
    returns None and the caller sends the message the ordinary way."""

    def __init__(self) -> None:
        token = uuid.uuid4().hex
        self.link = f"link-{token}"
        self.to = f"to-{token}@example.invalid"
        self.message_id = f"<id-{token}@example.invalid>"
        self.rendered: dict[tuple, tuple[str, str, str]] = {}
        self.flattened: dict[tuple, bytes] = {}

    def wire(self, name: str, key: tuple, context: dict, to: str, link: str = ""):
        """(envelope sender, recipient, message bytes) for one signer, or None."""
        if key not in self.flattened:
            rendered = self.render(name, key, context)
            message = templated_email(rendered, self.to).message()
            message.replace_header("Message-ID", self.message_id)
            data = message.as_bytes(linesep="\r\n")
            links = rendered[1].count(self.link) + rendered[2].count(self.link)
            intact = (
                data.count(self.to.encode()) == 1
                and data.count(self.message_id.encode()) == 1
                and data.count(self.link.encode()) == links
            )
            self.flattened[key] = data if intact else b""
        data = self.flattened[key]
        if not data:
            return None
        recipient = sanitize_address(to, settings.DEFAULT_CHARSET)
        data = data.replace(self.to.encode(), recipient.encode())
        data = data.replace(self.message_id.encode(), make_msgid(domain=DNS_NAME).encode())
        if link:
            data = data.replace(self.link.encode(), link.encode())
        sender = sanitize_address(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET)
        return sender, recipient, data

    def render(self, name: str, key: tuple, context: dict, link: str = "") -> tuple[str, str, str]:
        if key not in self.rendered:
            if "confirm_url" in context:
                context = {**context, "confirm_url": self.link}
            self.rendered[key] = render_templated_email(name, context)
        subject, text, html = self.rendered[key]
        if link:
            text, html = text.replace(self.link, link), html.replace(self.link, link)
        return subject, text, html
