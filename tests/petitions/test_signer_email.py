"""A signer's address is an ordinary mailbox at a domain name: IP literals, dotless hosts and
quoted local parts are refused with a clear field error, whichever path records a signature; the
email goes to the address as checked (its domain in IDNA form) in the header and the envelope
alike; staff see a look-alike domain in its IDNA form too."""

from __future__ import annotations

import email

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from petitions import tasks
from petitions.models import Signature
from petitions.services import signing
from tests.conftest import SIGN_DATA, make_signature, on_commit_runs, post_form

REFUSED = [
    ("user@[127.0.0.1]", "not at an IP address"),
    ("user@[IPv6:2001:db8::1]", "not at an IP address"),
    ("a@localhost", "a full domain name"),
    ("root@intranet", "a full domain name"),
    ('"<v@evil.example>"@example.com', "without quotation marks"),
    ('"a b"@example.com', "without quotation marks"),
]


def post(client, petition, address):
    with on_commit_runs():
        return post_form(
            client, reverse("petitions:sign", args=[petition.slug]), {**SIGN_DATA, "email": address}
        )


@pytest.mark.parametrize(("email", "says"), REFUSED)
def test_the_sign_form_refuses_an_address_that_is_no_ordinary_mailbox(
    client, petition, email, says
):
    response = post(client, petition, email)

    assert response.status_code == 400
    assert says in str(response.context["form"].errors["email"])
    assert not Signature.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(("email", "says"), REFUSED)
def test_signing_from_anywhere_else_refuses_it_too(petition, email, says):
    with pytest.raises(ValidationError, match=says), on_commit_runs():
        signing.sign(petition, name="Kim", email=email, country="KR")

    assert not Signature.objects.exists()
    with pytest.raises(ValidationError):
        Signature(petition=petition, name="Kim", email=email, country="KR").full_clean()


@pytest.mark.parametrize(
    ("email", "mailed_to"),
    [
        ("Min-Ji@Example.ORG", "Min-Ji@Example.ORG"),
        ("min-ji@bücher.example", "min-ji@xn--bcher-kva.example"),
        ("min-ji@서울.kr", "min-ji@xn--2i4bq6h.kr"),
        ("min-ji@xn--bcher-kva.example", "min-ji@xn--bcher-kva.example"),
    ],
)
def test_an_address_in_any_script_is_taken_and_mailed_in_its_idna_form(
    client, petition, email, mailed_to
):
    assert post(client, petition, email).status_code == 302

    assert Signature.objects.get().email == email  # kept as typed
    (message,) = mail.outbox
    assert message.to == [mailed_to]
    assert message.message()["To"] == mailed_to


def test_a_stored_address_that_must_not_be_mailed_is_never_sent_or_retried(
    petition, settings, smtp_server
):
    """Signatures saved before the check existed: the envelope is never built from them."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    smtp_server.received = []
    make_signature(petition, email='"<v@evil.example>"@example.com')
    make_signature(petition, email="user@[127.0.0.1]")
    make_signature(petition, email="fine@example.org")

    assert tasks.send_due_confirmations.apply().get() == 1

    assert [rcpt for rcpt, _ in smtp_server.received] == [["fine@example.org"]]
    assert not Signature.objects.owed_email().exists()  # not tried again, by any run


def test_one_email_task_does_not_send_to_such_an_address_either(petition):
    signature = make_signature(petition, email="a@localhost")

    assert tasks.send_confirmation.apply(args=[signature.pk]).get() == "address cannot be mailed"
    assert mail.outbox == []
    assert tasks.send_confirmation.apply(args=[signature.pk]).get() == "already sent"


def test_staff_see_a_look_alike_domain_in_its_idna_form_too(client, owner, viewer, petition):
    signature = make_signature(petition, email="ceo@gооgle.com")  # Cyrillic o's
    shown = "ceo@gооgle.com (xn--ggle-55da.com)"
    client.force_login(owner)

    assert shown in client.get("/admin/petitions/signature/").content.decode()
    page = client.get(f"/admin/petitions/signature/{signature.pk}/change/").content.decode()
    assert shown in page

    client.force_login(viewer)
    assert "xn--ggle-55da" not in client.get("/admin/petitions/signature/").content.decode()
    page = client.get(f"/admin/petitions/signature/{signature.pk}/change/").content.decode()
    assert "xn--ggle-55da" not in page and "ceo@" not in page


@pytest.fixture
def smtp_server():
    """aiosmtpd on a free port, keeping each message's envelope recipients."""
    import socket

    from aiosmtpd.controller import Controller

    class Server:
        received: list[tuple[list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            self.received.append((envelope.rcpt_tos, envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("address", "mailed_to"),
    [
        ("min-ji@bücher.example", "min-ji@xn--bcher-kva.example"),
        ("Min-Ji.Kim+petition@Example.ORG", "Min-Ji.Kim+petition@Example.ORG"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a!#$%&'*+/=?^_`{|}~-z@example.org", "a!#$%&'*+/=?^_`{|}~-z@example.org"),
    ],
)
@pytest.mark.parametrize("in_a_run", [False, True])
def test_the_smtp_envelope_is_the_checked_address(
    petition, settings, smtp_server, address, mailed_to, in_a_run
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    smtp_server.received = []
    signature = make_signature(petition, email=address)

    if in_a_run:
        assert tasks.send_due_confirmations.apply().get() == 1
    else:
        assert tasks.send_confirmation.apply(args=[signature.pk]).get() == "sent"

    ((recipients, content),) = smtp_server.received
    assert recipients == [mailed_to]
    assert email.message_from_bytes(content)["To"] == mailed_to


def test_the_quick_check_takes_nothing_the_full_one_refuses():
    """models.PLAIN_MAILBOX passes nearly every address without Django's slower check: it must
    never pass one that check refuses."""
    import random

    from django.core.validators import EmailValidator

    from petitions.models import PLAIN_MAILBOX

    full = EmailValidator(allowlist=[])
    rng = random.Random(13)

    def piece(odd: str) -> str:  # mostly letters and digits, now and then something odd
        letters = "ab1"
        return "".join(
            rng.choice(odd if rng.random() < 0.08 else letters) for _ in range(rng.randint(1, 8))
        )

    taken = 0
    for _ in range(20_000):
        local = piece("-._+'\"ü[ ")
        domain = ".".join(piece("-_ü[]:.") for _ in range(rng.randint(1, 3)))
        address = (
            f"{local}@{domain}.{rng.choice(['org', 'xn--p1ai', 'x', 'c0m', '-a', piece('ab-1')])}"
        )
        if PLAIN_MAILBOX.match(address):
            taken += 1
            full(address)  # raises if the full check would refuse it
    assert taken > 1000
