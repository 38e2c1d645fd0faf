"""Emails: templates/emails/<name>.subject.txt, .txt and .html, rendered and sent."""

from __future__ import annotations

import re
import smtplib
import uuid
from email.utils import make_msgid, parseaddr

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
        self.sender = envelope_address(header_address(settings.DEFAULT_FROM_EMAIL))

    def wire(self, name: str, key: tuple, context: dict, to: str, link: str = ""):
        """(envelope sender, envelope recipient, message bytes) for one signer, or None."""
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
        recipient = header_address(to)
        data = data.replace(self.to.encode(), recipient.encode())
        data = data.replace(self.message_id.encode(), make_msgid(domain=DNS_NAME).encode())
        if link:
            data = data.replace(self.link.encode(), link.encode())
        return self.sender, envelope_address(recipient), data

    def render(self, name: str, key: tuple, context: dict, link: str = "") -> tuple[str, str, str]:
        if key not in self.rendered:
            if "confirm_url" in context:
                context = {**context, "confirm_url": self.link}
            self.rendered[key] = render_templated_email(name, context)
        subject, text, html = self.rendered[key]
        if link:
            text, html = text.replace(self.link, link), html.replace(self.link, link)
        return subject, text, html


# An address of plain ASCII (what nearly every signer has) goes into headers and the envelope
# as it is; Django's sanitize_address would give the same string back after parsing it with
# the email package, which costs more than the rest of an email.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")


def header_address(address: str) -> str:
    if _PLAIN_ADDRESS.match(address):
        return address
    return sanitize_address(address, settings.DEFAULT_CHARSET)


def envelope_address(header: str) -> str:
    """The address alone, for MAIL FROM and RCPT TO ("Safe Passage <no-reply@…>" gives
    "no-reply@…"), as smtplib's sendmail() takes it from a header's address."""
    if _PLAIN_ADDRESS.match(header):
        return header
    return parseaddr(header)[1] or header


_LINE_START_DOT = re.compile(rb"(?m)^\.")
_EXPECTED = ((250,), (250, 251), (354,))


def transmit(connection: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """smtplib's sendmail() for one recipient and a message already encoded (with CRLF line
    ends), without parsing the addresses again, and with MAIL, RCPT and DATA sent in one go when
    the server offers PIPELINING (RFC 2920): one round trip an email instead of three before
    the message. Raises an SMTPResponseException when the server refuses."""
    connection.ehlo_or_helo_if_needed()
    commands = [f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>", "DATA"]
    if connection.has_extn("pipelining"):
        connection.send("".join(command + "\r\n" for command in commands))
        replies = [connection.getreply() for _ in commands]
    else:
        replies = []
        for command, expected in zip(commands, _EXPECTED, strict=True):
            replies.append(connection.docmd(command))
            if replies[-1][0] not in expected:
                break
    for (code, message), expected in zip(replies, _EXPECTED, strict=False):  # may stop early
        if code not in expected:
            try:
                if replies[-1][0] == 354:  # a server that took DATA all the same: end it empty
                    connection.send(b".\r\n")
                    connection.getreply()
                connection.rset()
            except smtplib.SMTPServerDisconnected:
                pass
            raise smtplib.SMTPResponseException(code, message)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    connection.send(_LINE_START_DOT.sub(b"..", data) + b".\r\n")
    code, message = connection.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, message)
