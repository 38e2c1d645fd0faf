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
        """(envelope sender, envelope recipient, message bytes) for one signer, or None. `to`
        is the signer's mailbox(): the same ASCII address goes into To and RCPT TO."""
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
        data = data.replace(self.to.encode(), to.encode())
        data = data.replace(self.message_id.encode(), make_msgid(domain=DNS_NAME).encode())
        if link:
            data = data.replace(self.link.encode(), link.encode())
        return self.sender, to, data

    def render(self, name: str, key: tuple, context: dict, link: str = "") -> tuple[str, str, str]:
        if key not in self.rendered:
            if "confirm_url" in context:
                context = {**context, "confirm_url": self.link}
            self.rendered[key] = render_templated_email(name, context)
        subject, text, html = self.rendered[key]
        if link:
            text, html = text.replace(self.link, link), html.replace(self.link, link)
        return subject, text, html


# An address of plain ASCII (the sender, as nearly always) goes into headers and the envelope
# as it is; Django's sanitize_address would give the same string back after parsing it with
# the email package, which costs more than the rest of an email.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")


def mailbox(address: str) -> str:
    """A signer's address as it is mailed, in To and in RCPT TO alike: checked again
    (models.validate_signer_email: a row saved before that check existed may hold anything),
    with its domain in IDNA form, so ASCII throughout and never parsed again. Raises
    ValidationError for an address that must not be mailed."""
    if PLAIN_MAILBOX.match(address):
        return address
    validate_signer_email(address)
    local, _, domain = address.rpartition("@")
    return f"{local}@{punycode(domain)}"


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


class Transmitter:
    """Sends messages already encoded (with CRLF line ends) over an open SMTP connection, each
    to one recipient, as smtplib's sendmail() would, without parsing the addresses again.

    When the server offers PIPELINING (RFC 2920), a message's end goes out in one write with the
    next message's MAIL, RCPT and DATA, and their replies are read together: one round trip an
    email, where sendmail() takes four. So whether the server took a message is known only once
    the next one is sent, or at finish(): both return the messages settled meanwhile, as (key,
    None) when taken or (key, the exception) when refused. Once the connection fails, every
    message in flight and every later one is refused with that error."""

    def __init__(self, connection: smtplib.SMTP) -> None:
        self.connection = connection
        connection.ehlo_or_helo_if_needed()
        self.pipelining = connection.has_extn("pipelining")
        self.in_flight: list = []  # the keys of messages sent, their outcome not read yet
        self.settled: list[tuple] = []  # outcomes read, not yet returned
        self.unsent_end = b""  # pipelined: the last message, sent with the next commands
        self.broken: OSError | None = None

    def send(self, key, sender: str, recipient: str, data: bytes) -> list[tuple]:
        commands = f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode("ascii")
        if self.broken is not None:
            return [(key, self.broken)]
        self.in_flight.append(key)
        try:
            self._send(key, commands, data)
        except OSError as error:  # smtplib's SMTPServerDisconnected included
            self._broke(error)
        settled, self.settled = self.settled, []
        return settled

    def finish(self) -> list[tuple]:
        """Send the last message's end; call it before the connection is used for anything
        else."""
        if self.unsent_end and self.broken is None:
            try:
                self.connection.send(self.unsent_end)
                self.unsent_end = b""
                self._read_data_reply()
            except OSError as error:
                self._broke(error)
        settled, self.settled = self.settled, []
        return settled

    def _send(self, key, commands: bytes, data: bytes) -> None:
        if self.pipelining:
            self.connection.send(self.unsent_end + commands)
            if self.unsent_end:
                self.unsent_end = b""
                self._read_data_reply()
            replies = [self.connection.getreply() for _ in _EXPECTED]
        else:
            replies = []
            for command, expected in zip(commands.decode().splitlines(), _EXPECTED, strict=True):
                replies.append(self.connection.docmd(command))
                if replies[-1][0] not in expected:
                    break
        for (code, message), expected in zip(replies, _EXPECTED, strict=False):  # may stop early
            if code not in expected:
                self.in_flight.remove(key)
                self.settled.append((key, smtplib.SMTPResponseException(code, message)))
                if replies[-1][0] == 354:  # a server that took DATA all the same: end it empty
                    self.connection.send(b".\r\n")
                    self.connection.getreply()
                self.connection.rset()
                return
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        if data.startswith(b".") or b"\n." in data:
            data = _LINE_START_DOT.sub(b"..", data)
        self.unsent_end = data + b".\r\n"
        if not self.pipelining:
            self.connection.send(self.unsent_end)
            self.unsent_end = b""
            self._read_data_reply()

    def _read_data_reply(self) -> None:
        code, message = self.connection.getreply()
        key = self.in_flight.pop(0)
        self.settled.append((key, None if code == 250 else smtplib.SMTPDataError(code, message)))

    def _broke(self, error: OSError) -> None:
        self.broken, self.unsent_end = error, b""
        self.settled.extend((key, error) for key in self.in_flight)
        self.in_flight = []
