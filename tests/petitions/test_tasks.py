from __future__ import annotations

import email
import re
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email import policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connection
from django.utils import timezone

from config import memos
from petitions import tasks
from petitions.mail import confirmations
from petitions.models import Signature
from tests.conftest import make_signature, unused_port


@dataclass
class Received:
    peer: tuple[str, int]  # the sender's end of the connection it came over
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class MailServer:
    """An aiosmtpd handler: keeps what it receives; refuses the addresses in `refused` (550 at
    RCPT) and drops the connection at the DATA of those in `dropped`, once each."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refused: set[str] = set()
        self.dropped: set[str] = set()

    @property
    def recipients(self) -> list[str]:
        """The envelope's recipient of each message received, in order."""
        return [address for received in self.received for address in received.rcpt_tos]

    def to(self, address: str) -> list[Received]:
        return [received for received in self.received if address in received.rcpt_tos]

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.dropped & set(envelope.rcpt_tos):
            self.dropped -= set(envelope.rcpt_tos)
            server.transport.close()
            return "421 closing"  # never reaches the sender: the connection is gone
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(session.peer, list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """Mail goes over SMTP, through Django's SMTP backend, to a real server on a free port."""
    handler = MailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=unused_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    try:
        yield handler
    finally:
        controller.stop()


def test_send_confirmation_sends_once_however_often_it_runs(petition):
    signature = make_signature(petition)

    results = [tasks.send_confirmation.apply(args=[signature.pk]).get() for _ in range(3)]

    assert results == ["sent", "already sent", "already sent"]
    assert len(mail.outbox) == 1
    signature.refresh_from_db()
    assert signature.confirmations_sent == 1
    assert signature.last_confirmation_sent_at is not None


def test_the_email_has_a_text_and_an_html_part_with_the_same_link(petition, settings):
    settings.SITE_URL = "https://sign.example.org"
    signature = make_signature(petition)

    tasks.send_confirmation.apply(args=[signature.pk])

    message = mail.outbox[0]
    link = f"https://sign.example.org/confirm/{signature.uuid}/"
    assert link in message.body
    assert link in message.alternatives[0][0]
    assert "\n" not in message.subject


def test_the_email_never_repeats_what_the_signer_typed(petition):
    signature = make_signature(petition, name="Click http://evil.example now", city="Phish")

    tasks.send_confirmation.apply(args=[signature.pk])

    message = mail.outbox[0]
    assert "evil.example" not in message.body + message.alternatives[0][0]


def test_a_newline_in_the_title_does_not_become_a_header(petition):
    petition.title = "Free them\nBcc: victim@example.org"
    petition.save()
    signature = make_signature(petition)

    tasks.send_confirmation.apply(args=[signature.pk])

    message = mail.outbox[0].message()
    assert message["Bcc"] is None
    assert "Bcc: victim" in message["Subject"]


def test_an_smtp_failure_gives_the_claim_back_for_a_retry(petition, smtp_server):
    signature = make_signature(petition, email="refused@example.org")
    smtp_server.refused.add("refused@example.org")

    result = tasks.send_confirmation.apply(args=[signature.pk])

    assert isinstance(result.result, smtplib.SMTPRecipientsRefused)  # retried with backoff
    signature.refresh_from_db()
    assert signature.confirmations_sent == 0
    smtp_server.refused.clear()
    assert tasks.send_confirmation.apply(args=[signature.pk]).get() == "sent"
    assert smtp_server.recipients == ["refused@example.org"]


def test_a_claim_taken_by_another_worker_is_left_alone(petition):
    signature = make_signature(petition)
    raced = []

    def another_worker_claims_after_the_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("SELECT") and not raced:  # this worker has read the signature
            raced.append(sql)
            Signature.objects.filter(pk=signature.pk).update(confirmations_sent=1)
        return result

    with connection.execute_wrapper(another_worker_claims_after_the_read):
        outcome = tasks.send_confirmation.apply(args=[signature.pk]).get()

    assert raced and outcome == ("another worker got there first")
    assert mail.outbox == []


def test_a_deleted_or_removed_signature_is_not_mailed(petition):
    removed = make_signature(petition, status=Signature.Status.WITHDRAWN)

    assert tasks.send_confirmation.apply(args=[removed.pk]).get() == "not needed"
    assert tasks.send_confirmation.apply(args=[999_999]).get() == "gone"
    assert mail.outbox == []


def test_requeue_sends_what_was_asked_for_and_never_sent(petition, settings):
    settings.CONFIRMATION_REQUEUE_AFTER_SECONDS = 300
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        unsent = make_signature(petition, email="unsent@example.org")
        sent = make_signature(petition, email="sent@example.org", confirmations_sent=1)
    just_now = make_signature(petition, email="now@example.org")

    assert tasks.requeue_unsent_confirmations.apply().get() == 1

    assert [m.to for m in mail.outbox] == [["unsent@example.org"]]
    unsent.refresh_from_db()
    sent.refresh_from_db()
    just_now.refresh_from_db()
    assert (unsent.confirmations_sent, sent.confirmations_sent) == (1, 1)
    assert just_now.confirmations_sent == 0
    assert tasks.requeue_unsent_confirmations.apply().get() == 0


def test_a_run_sends_each_signature_its_own_email_over_one_connection(
    client, petition, settings, smtp_server
):
    settings.SITE_URL = "https://sign.example.org"
    owed = [make_signature(petition, email=f"owed{n}@example.org") for n in range(5)]
    make_signature(petition, email="done@example.org", confirmations_sent=1)
    make_signature(petition, email="removed@example.org", status=Signature.Status.INVALIDATED)

    assert tasks.send_due_confirmations.apply().get() == 5

    assert sorted(smtp_server.recipients) == [signature.email for signature in owed]
    assert len({received.peer for received in smtp_server.received}) == 1  # one connection
    assert len({received.message["Message-ID"] for received in smtp_server.received}) == 5
    for signature in owed:
        (delivered,) = smtp_server.to(signature.email)
        assert delivered.rcpt_tos == [signature.email]
        assert delivered.message["To"] == signature.email
        link = f"https://sign.example.org/confirm/{signature.uuid}/"
        assert delivered.text.count(link) == 1 and delivered.text.count("/confirm/") == 1
        assert delivered.html.count(link) == 2  # the button and the copyable link
        # Its own link confirms its own signature.
        url = re.search(re.escape(link) + r"\S+/", delivered.text).group(0)
        assert client.post(url.removeprefix(settings.SITE_URL)).status_code == 302
        signature.refresh_from_db()
        assert signature.status == Signature.Status.CONFIRMED
    assert tasks.send_due_confirmations.apply().get() == 0  # run twice: nothing sent twice
    assert len(smtp_server.received) == 5


def test_an_address_the_mail_server_refuses_does_not_hold_up_the_others(petition, smtp_server):
    for address in ["first@example.org", "refused@example.org", "last@example.org"]:
        make_signature(petition, email=address)
    smtp_server.refused.add("refused@example.org")

    result = tasks.send_due_confirmations.apply()

    assert isinstance(result.result, smtplib.SMTPException)  # retried later, for one only
    assert smtp_server.recipients == ["first@example.org", "last@example.org"]
    sent = dict(Signature.objects.values_list("email", "confirmations_sent"))
    assert sent == {"first@example.org": 1, "refused@example.org": 0, "last@example.org": 1}

    smtp_server.refused.clear()  # the mailbox is there now: the retry sends that email alone
    assert tasks.send_due_confirmations.apply().get() == 1
    assert smtp_server.recipients[2:] == ["refused@example.org"]


def test_a_dropped_connection_gives_back_every_email_not_delivered(petition, smtp_server):
    addresses = [f"s{n}@example.org" for n in range(5)]
    for address in addresses:
        make_signature(petition, email=address)
    smtp_server.dropped.add("s2@example.org")  # the server goes away during its DATA

    with pytest.raises(smtplib.SMTPException):  # the task retries
        confirmations.send_due_confirmations(in_worker=False)

    assert smtp_server.recipients == addresses[:2]
    sent = dict(Signature.objects.values_list("email", "confirmations_sent"))
    assert sent == {address: int(address in addresses[:2]) for address in addresses}
    assert tasks.send_due_confirmations.apply().get() == 3
    assert sorted(smtp_server.recipients) == addresses  # once each
    assert len({received.peer for received in smtp_server.received}) == 2


def test_over_smtp_each_email_comes_out_whole(petition, settings, smtp_server):
    """A title in another script, an address at a domain in another script, the "already
    counted" note: the mail server receives each signer's email, headers and both parts."""
    settings.SITE_URL = "https://sign.example.org"
    Petition = type(petition)
    Petition.objects.filter(pk=petition.pk).update(title_en="북한 난민을 구하라 — Save them")
    pending = {
        "min-ji@example.org": make_signature(petition, email="min-ji@example.org"),
        # the address as checked, its domain in IDNA form, in the envelope and To alike
        "jose.nunez@xn--bcher-kva.example": make_signature(
            petition, email="jose.nunez@bücher.example"
        ),
    }
    make_signature(petition, email="done@example.org", status=Signature.Status.CONFIRMED)

    assert tasks.send_due_confirmations.apply().get() == 3

    by_recipient = {received.rcpt_tos[0]: received for received in smtp_server.received}
    assert set(by_recipient) == {*pending, "done@example.org"}
    for recipient, delivered in by_recipient.items():
        assert delivered.message["To"] == recipient
        assert delivered.message["From"] == settings.DEFAULT_FROM_EMAIL
        assert delivered.message["Date"] and delivered.message["Message-ID"]
        assert delivered.message.get_content_type() == "multipart/alternative"
    assert len({received.message["Message-ID"] for received in smtp_server.received}) == 3
    for recipient, signature in pending.items():
        delivered = by_recipient[recipient]
        subject = str(delivered.message["Subject"]).strip()  # folded: " =?utf-8?b?…"
        assert subject == "Please confirm your signature: 북한 난민을 구하라 — Save them"
        link = f"https://sign.example.org/confirm/{signature.uuid}/"
        assert delivered.text.count(link) == 1 and delivered.html.count(link) == 2
        assert "북한 난민을 구하라" in delivered.text and "북한 난민을 구하라" in delivered.html
    note = by_recipient["done@example.org"]
    assert "/confirm/" not in note.text + note.html
    assert "https://sign.example.org/petitions/" in note.text


def test_a_mail_server_that_cannot_be_reached_gets_every_claim_given_back(petition, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", unused_port()  # nothing listens
    settings.EMAIL_TIMEOUT = 2
    for n in range(3):
        make_signature(petition, email=f"s{n}@example.org")

    result = tasks.send_due_confirmations.apply()

    assert isinstance(result.result, OSError)  # retried later
    assert Signature.objects.owed_email().count() == 3  # none of them lost


def test_a_run_of_emails_serves_the_signatures_made_while_it_was_on_its_way(
    petition, broker, monkeypatch
):
    """With a real worker, a viral petition's sign POSTs do not each pay a cache round trip to
    learn that a run of emails is on its way (this process remembers queuing one a moment ago);
    the run waits as long before it looks, so that none of their signatures is missed."""
    now = [1000.0]
    monkeypatch.setattr(memos.time, "monotonic", lambda: now[0])

    def sign(address: str) -> None:
        make_signature(petition, email=address)
        confirmations.queue_confirmations()

    sign("first@example.org")
    sign("second@example.org")
    # One run, CONFIRMATION_BATCH_DELAY_MS later.
    assert broker.waiting == [("petitions.tasks.send_due_confirmations", (), 0.5)]

    def wait(seconds: float) -> None:  # while the run waits before it looks, someone signs
        sign("meanwhile@example.org")
        now[0] += seconds

    monkeypatch.setattr(confirmations.time, "sleep", wait)
    assert broker.run() == [3]
    assert sorted(message.to[0] for message in mail.outbox) == [
        "first@example.org",
        "meanwhile@example.org",
        "second@example.org",
    ]
    assert broker.waiting == []  # the signature made meanwhile queued no run of its own

    sign("later@example.org")  # the run has looked: the next signature queues the next run
    assert [name for name, *_ in broker.waiting] == ["petitions.tasks.send_due_confirmations"]


def test_a_full_batch_hands_the_rest_to_the_next_run_so_other_tasks_get_a_turn(
    petition, broker, monkeypatch
):
    monkeypatch.setattr(confirmations.time, "sleep", lambda seconds: None)  # the run's wait
    now = timezone.now()
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            name=f"Signer {n}",
            email=f"s{n}@example.org",
            email_canonical=f"s{n}@example.org",
            country="KR",
            created_at=now,
            consented_at=now,
        )
        for n in range(confirmations.BATCH + 1)
    )
    confirmations.queue_confirmations()

    assert broker.run() == [confirmations.BATCH]
    assert [name for name, *_ in broker.waiting] == ["petitions.tasks.send_due_confirmations"]
    assert broker.run() == [1]
    assert broker.waiting == []
    assert len({message.to[0] for message in mail.outbox}) == confirmations.BATCH + 1


def test_a_run_reads_each_petition_once_and_skips_one_deleted_meanwhile(
    petition, django_assert_num_queries
):
    signatures = [Signature(petition_id=petition.pk), Signature(petition_id=petition.pk)]
    gone = Signature(petition_id=petition.pk + 1000)
    known: dict = {}

    with django_assert_num_queries(1):
        kept = confirmations._with_petitions([*signatures, gone], known)
    with django_assert_num_queries(0):
        confirmations._with_petitions(signatures, known)

    assert kept == signatures and kept[0].petition.campaign.organisation.name
