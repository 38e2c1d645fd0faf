"""Confirmation emails on the real stack: a Celery worker process sends them over SMTP to a real
server (aiosmtpd). Signatures made while a run waits get their emails from it, over one
connection, each to its own address with both parts and its own working link; an address the
server refuses, or a connection it drops, holds up nobody else and is retried until every
signer has had one email.

Run with PostgreSQL and Redis (see tests/integration/conftest.py); without them these skip.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from petitions.models import Petition, Signature
from petitions.tasks import send_due_confirmations
from tests.conftest import make_signature

from .conftest import (
    REAL_STACK_SKIP_REASON,
    CeleryWorker,
    HttpClient,
    MailSink,
    ReceivedMail,
    csrf_token_in,
    free_port,
    real_stack_configured,
    serving,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not real_stack_configured(), reason=REAL_STACK_SKIP_REASON),
]


@dataclass
class StrictMailSink(MailSink):
    """Notes the connection each message came over; refuses each address in `refuse_once` the
    first time it is offered (550 at RCPT) and drops the connection during the DATA of each in
    `drop_once`, the first time."""

    refuse_once: set[str] = field(default_factory=set)
    drop_once: set[str] = field(default_factory=set)
    connection_of: dict[str, tuple[str, int]] = field(default_factory=dict)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse_once:
            self.refuse_once.discard(address)
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        if self.drop_once & set(envelope.rcpt_tos):
            self.drop_once -= set(envelope.rcpt_tos)
            server.transport.close()
            return "421 closing"  # never reaches the worker: the connection is gone
        for address in envelope.rcpt_tos:
            self.connection_of[address] = session.peer
        return await super().handle_DATA(server, session, envelope)

    def one_each(self, addresses: list[str]) -> dict[str, ReceivedMail] | None:
        """{address: its email} once every address has had one; fails on a second."""
        received = {address: self.to(address) for address in addresses}
        assert all(len(mails) <= 1 for mails in received.values()), self.describe()
        if all(received.values()):
            return {address: mails[0] for address, mails in received.items()}
        return None


@pytest.fixture
def smtp_server() -> Iterator[StrictMailSink]:
    """Replaces the conftest's server for this module's worker."""
    with serving(StrictMailSink(port=free_port())) as sink:
        yield sink


def sign(http: HttpClient, petition: Petition, address: str) -> None:
    response = http.post(
        reverse("petitions:sign", args=[petition.slug]),
        {"name": "Kim Min-ji", "email": address, "country": "KR", "consent": "on"},
    )
    assert response.status == 200, response.body


def test_signatures_made_while_a_run_waits_get_their_emails_from_it_over_one_connection(
    live_server,
    transactional_db: None,
    petition: Petition,
    http: HttpClient,
    smtp_server: StrictMailSink,
    start_worker: Callable[[], CeleryWorker],
    settings,
) -> None:
    settings.CONFIRMATION_BATCH_DELAY_MS = 3000  # the first signature queues the run this late
    addresses = [f"signer{n}@example.org" for n in range(5)]
    worker = start_worker()
    worker.wait_until_ready()

    for address in addresses:
        sign(http, petition, address)

    mails = wait_for(lambda: smtp_server.one_each(addresses), "the five emails", worker=worker)
    assert len({smtp_server.connection_of[address] for address in addresses}) == 1
    for address, mail in mails.items():
        signature = Signature.objects.get(email=address)
        assert mail.rcpt_tos == [address] and mail.message["To"] == address
        html = mail.message.get_body(("html",)).get_content()
        link = re.search(rf"{re.escape(live_server.url)}/confirm/{signature.uuid}/\S+/", mail.text)
        assert link, mail.text
        assert html.count(link.group(0)) == 2  # the button and the copyable link
        page = http.get(link.group(0))
        confirmed = http.post(link.group(0), {"csrfmiddlewaretoken": csrf_token_in(page.body)})
        assert confirmed.url.endswith(reverse("petitions:thanks", args=[petition.slug]))
    assert set(Signature.objects.values_list("status", flat=True)) == {Signature.Status.CONFIRMED}
    assert len(smtp_server.messages) == 5, smtp_server.describe()


def test_an_address_the_server_refuses_is_retried_without_holding_up_the_others(
    transactional_db: None,
    petition: Petition,
    smtp_server: StrictMailSink,
    start_worker: Callable[[], CeleryWorker],
) -> None:
    addresses = ["first@example.org", "refused@example.org", "last@example.org"]
    for address in addresses:
        make_signature(petition, address)
    smtp_server.refuse_once.add("refused@example.org")
    worker = start_worker()
    worker.wait_until_ready()

    send_due_confirmations.delay()

    wait_for(lambda: smtp_server.one_each(addresses), "an email to each", worker=worker)
    connection_of = smtp_server.connection_of
    assert connection_of["first@example.org"] == connection_of["last@example.org"]
    assert connection_of["refused@example.org"] != connection_of["first@example.org"]  # retried
    assert re.search(r"send_due_confirmations\[[-0-9a-f]+\] retry", worker.log()), worker.log()
    assert not Signature.objects.owed_email().exists()


def test_a_dropped_connection_is_retried_and_every_signer_gets_one_email(
    transactional_db: None,
    petition: Petition,
    smtp_server: StrictMailSink,
    start_worker: Callable[[], CeleryWorker],
) -> None:
    addresses = [f"s{n}@example.org" for n in range(5)]
    for address in addresses:
        make_signature(petition, address)
    smtp_server.drop_once.add("s2@example.org")  # the server goes away during its DATA
    worker = start_worker()
    worker.wait_until_ready()

    send_due_confirmations.delay()

    wait_for(lambda: smtp_server.one_each(addresses), "an email to each", worker=worker)
    first, *_, last = [smtp_server.connection_of[address] for address in addresses]
    assert smtp_server.connection_of["s1@example.org"] == first
    assert smtp_server.connection_of["s2@example.org"] == last != first
    assert not Signature.objects.owed_email().exists()
