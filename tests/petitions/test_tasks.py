from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from petitions import tasks
from petitions.mail import confirmations
from petitions.models import Signature
from tests.conftest import make_signature


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


def test_an_smtp_failure_gives_the_claim_back_for_a_retry(petition, monkeypatch):
    signature = make_signature(petition)

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection dropped")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)

    result = tasks.send_confirmation.apply(args=[signature.pk])

    assert result.failed()
    signature.refresh_from_db()
    assert signature.confirmations_sent == 0
    monkeypatch.undo()
    assert tasks.send_confirmation.apply(args=[signature.pk]).get() == "sent"


def test_a_claim_taken_by_another_worker_is_left_alone(petition, monkeypatch):
    signature = make_signature(petition)
    stale = confirmations.load_signature(signature.pk)
    # Another worker claims the email between this worker's read and its conditional update.
    Signature.objects.filter(pk=signature.pk).update(confirmations_sent=1)
    monkeypatch.setattr(confirmations, "load_signature", lambda pk: stale)

    assert tasks.send_confirmation.apply(args=[signature.pk]).get() == (
        "another worker got there first"
    )
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


def test_due_confirmations_go_out_in_one_run_over_one_connection(petition, monkeypatch):
    owed = [make_signature(petition, email=f"owed{n}@example.org") for n in range(5)]
    make_signature(petition, email="done@example.org", confirmations_sent=1)
    make_signature(petition, email="removed@example.org", status=Signature.Status.INVALIDATED)
    opened = []
    real_get_connection = confirmations.get_connection

    def counting_get_connection(*args, **kwargs):
        opened.append(1)
        return real_get_connection(*args, **kwargs)

    monkeypatch.setattr(confirmations, "get_connection", counting_get_connection)

    assert tasks.send_due_confirmations.apply().get() == 5

    assert len(opened) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in owed)
    # Rendered once, each still carries its own signer's link, in both parts, and no other.
    for message in mail.outbox:
        signature = next(s for s in owed if s.email == message.to[0])
        html = message.alternatives[0][0]
        assert f"/confirm/{signature.uuid}/" in message.body
        assert html.count(f"/confirm/{signature.uuid}/") == 2  # the button and the copyable link
        assert message.body.count("/confirm/") == 1 and "link-" not in message.body + html
    assert tasks.send_due_confirmations.apply().get() == 0  # run twice: nothing sent twice
    assert len(mail.outbox) == 5


def test_an_address_that_fails_does_not_hold_up_the_others(petition, monkeypatch):
    for n in range(3):
        make_signature(petition, email=f"s{n}@example.org")
    real_message = confirmations._message

    def refuse_one(signature, composer, smtp=None):
        message = real_message(signature, composer, smtp)
        if signature.email == "s1@example.org":
            message.send = mock.Mock(
                side_effect=smtplib.SMTPRecipientsRefused({"s1": (550, b"no such user")})
            )
        return message

    monkeypatch.setattr(confirmations, "_message", refuse_one)

    result = tasks.send_due_confirmations.apply()

    assert isinstance(result.result, smtplib.SMTPException)  # retried later, for s1 only
    assert sorted(m.to[0] for m in mail.outbox) == ["s0@example.org", "s2@example.org"]
    assert Signature.objects.get(email="s1@example.org").confirmations_sent == 0


def test_signing_queues_one_run_for_many_signatures(client, petition, settings):
    from unittest import mock

    from petitions.services import signing
    from tests.conftest import on_commit_runs

    settings.CONFIRMATION_BATCH_DELAY_MS = 500
    with mock.patch.object(tasks.send_due_confirmations, "apply_async") as queued:
        for n in range(4):
            with on_commit_runs():
                signing.sign(petition, name="Min-ji", email=f"m{n}@example.org", country="KR")

    assert queued.call_count == 1
    assert queued.call_args.kwargs == {"countdown": 0.5}
    assert Signature.objects.owed_email().count() == 4


def test_over_smtp_each_message_is_composed_once_and_comes_out_whole(
    petition, settings, monkeypatch
):
    """The SMTP path fills the recipient, link and Message-ID into bytes encoded once per
    petition; what a real SMTP server receives must be the same email the ordinary path sends."""
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    received = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            received.append((envelope.rcpt_tos, envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.SITE_URL = "https://sign.example.org"
    Petition = type(petition)
    Petition.objects.filter(pk=petition.pk).update(title="북한 난민을 구하라 — Save them")
    signers = [
        make_signature(petition, email="min-ji@example.org"),
        make_signature(petition, email="jose.nunez@bücher.example"),
        make_signature(petition, email="done@example.org", status=Signature.Status.CONFIRMED),
    ]
    from django.core.mail import EmailMessage

    built = []
    real_message = EmailMessage.message
    monkeypatch.setattr(EmailMessage, "message", lambda self: built.append(1) or real_message(self))
    try:
        assert tasks.send_due_confirmations.apply().get() == 3
    finally:
        controller.stop()
    assert len(built) == 2  # one confirmation and one "already counted" note, for three emails

    by_recipient = {
        rcpt[0]: email.message_from_bytes(content, policy=email.policy.default)
        for rcpt, content in received
    }
    assert len(by_recipient) == 3
    assert {"min-ji@example.org", "done@example.org"} < set(by_recipient)
    # The envelope and the header name the address as checked, its domain in IDNA form.
    assert (
        by_recipient["jose.nunez@xn--bcher-kva.example"]["To"] == "jose.nunez@xn--bcher-kva.example"
    )
    ids = {message["Message-ID"] for message in by_recipient.values()}
    assert len(ids) == 3
    for signature in signers[:2]:
        domain = "xn--bcher-kva.example" if "bücher" in signature.email else "example.org"
        message = next(m for r, m in by_recipient.items() if r.endswith(domain) and "done" not in r)
        subject = str(message["Subject"]).strip()  # the header is folded: " =?utf-8?b?…"
        assert subject == "Please confirm your signature: 북한 난민을 구하라 — Save them"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        link = f"https://sign.example.org/confirm/{signature.uuid}/"
        assert text.count(link) == 1 and html.count(link) == 2
        assert "link-" not in text + html and "example.invalid" not in str(message)
    note = by_recipient["done@example.org"].get_body(("plain",)).get_content()
    assert "/confirm/" not in note and "https://sign.example.org/petitions/" in note


@pytest.fixture
def smtp_server():
    """aiosmtpd, keeping what it receives, refusing refused@example.org, and offering
    PIPELINING when its `pipelining` is set."""
    import socket

    from aiosmtpd.controller import Controller

    class Server:
        pipelining = False
        received: list[tuple[list[str], bytes]] = []

        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
            session.host_name = hostname
            if self.pipelining:
                responses.insert(-1, "250-PIPELINING")
            return responses

        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            if address == "refused@example.org":
                return "550 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.received.append((envelope.rcpt_tos, envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.mark.parametrize("pipelining", [True, False])
def test_the_transmitter_sends_messages_as_they_are_pipelined_or_not(smtp_server, pipelining):
    from petitions.mail.compose import Transmitter

    smtp_server.pipelining = pipelining
    message = b"Subject: test\r\n\r\n.a line that starts with a dot\r\n..and two\r\nlast"
    with smtplib.SMTP("127.0.0.1", smtp_server.port) as connection:
        writes = []
        real_send = connection.send
        connection.send = lambda data: writes.append(data) or real_send(data)
        transmitter = Transmitter(connection)
        outcomes = [
            *transmitter.send(1, "from@example.org", "to@example.org", message),
            # after a refused recipient, nothing is sent and the connection stays usable
            *transmitter.send(2, "from@example.org", "refused@example.org", b"Subject: no\r\n"),
            *transmitter.send(3, "from@example.org", "again@example.org", message),
            *transmitter.send(4, "from@example.org", "last@example.org", b"Subject: 4\r\n"),
        ]
        if pipelining:  # the last message's end is still to go
            assert [key for key, _ in outcomes] == [1, 2, 3]
        outcomes += transmitter.finish()

    assert sorted(key for key, error in outcomes if error is None) == [1, 3, 4]
    (refused,) = [error for key, error in outcomes if key == 2]
    assert isinstance(refused, smtplib.SMTPResponseException) and refused.smtp_code == 550
    assert smtp_server.received == [
        (["to@example.org"], message + b"\r\n"),
        (["again@example.org"], message + b"\r\n"),
        (["last@example.org"], b"Subject: 4\r\n"),
    ]
    stuffed = b"\r\n...and two\r\nlast\r\n.\r\n"
    sent = [data if isinstance(data, bytes) else data.encode() for data in writes]
    sent = [data for data in sent if not data.lower().startswith((b"ehlo", b"rset", b"quit"))]
    if pipelining:  # one write an email: its commands, with the end of the one before
        assert sent[0] == b"MAIL FROM:<from@example.org>\r\nRCPT TO:<to@example.org>\r\nDATA\r\n"
        assert stuffed + b"MAIL FROM:<from@example.org>\r\nRCPT TO:<refused" in sent[1]
        assert sent[3].startswith(b"Subject: test") and stuffed + b"MAIL FROM" in sent[3]
        assert sent[4] == b"Subject: 4\r\n.\r\n"
        assert len(sent) == 5
    else:  # MAIL, RCPT and DATA each on its own, then the message
        assert sent[3].endswith(stuffed) and len(sent) == 4 + 2 + 4 + 4


def test_a_lost_connection_fails_every_message_in_flight_and_after(smtp_server):
    import socket

    from petitions.mail.compose import Transmitter

    smtp_server.pipelining = True
    with smtplib.SMTP("127.0.0.1", smtp_server.port) as connection:
        transmitter = Transmitter(connection)
        first = transmitter.send(1, "from@example.org", "to@example.org", b"Subject: 1\r\n")
        connection.sock.shutdown(socket.SHUT_RDWR)  # the connection is lost
        outcomes = [
            *first,
            *transmitter.send(2, "from@example.org", "to@example.org", b"Subject: 2\r\n"),
            *transmitter.send(3, "from@example.org", "to@example.org", b"Subject: 3\r\n"),
            *transmitter.finish(),
        ]

    assert sorted(key for key, _ in outcomes) == [1, 2, 3]
    assert all(isinstance(error, OSError) for _, error in outcomes)


@pytest.mark.parametrize("pipelining", [True, False])
def test_over_smtp_a_refused_address_is_given_back_and_the_others_sent(
    petition, settings, smtp_server, pipelining
):
    smtp_server.pipelining = pipelining
    smtp_server.received = []
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    for address in ["first@example.org", "refused@example.org", "last@example.org"]:
        make_signature(petition, email=address)

    result = tasks.send_due_confirmations.apply()

    assert isinstance(result.result, smtplib.SMTPException)  # retried later, for one only
    assert sorted(rcpt[0] for rcpt, _ in smtp_server.received) == [
        "first@example.org",
        "last@example.org",
    ]
    sent = dict(Signature.objects.values_list("email", "confirmations_sent"))
    assert sent == {"first@example.org": 1, "refused@example.org": 0, "last@example.org": 1}


def test_a_mail_server_that_cannot_be_reached_gets_every_claim_given_back(petition, settings):
    import socket

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    for n in range(3):
        make_signature(petition, email=f"s{n}@example.org")

    result = tasks.send_due_confirmations.apply()

    assert isinstance(result.result, OSError)  # retried later
    assert Signature.objects.owed_email().count() == 3  # none of them lost


def test_plain_addresses_go_into_headers_as_they_are():
    from django.core.mail.message import sanitize_address

    from petitions.mail.compose import envelope_address, header_address

    for address in ["a@b.c", "Min-Ji.Kim+petition@Example.ORG", "o'brien@example.ie"]:
        assert header_address(address) == address == sanitize_address(address, "utf-8")
    for address in ["user@bücher.de", "jöe@example.org", "Min-ji <m@example.org>"]:
        assert header_address(address) == sanitize_address(address, "utf-8")
    assert envelope_address("Safe Passage <no-reply@example.org>") == "no-reply@example.org"
    assert envelope_address("user@xn--bcher-kva.de") == "user@xn--bcher-kva.de"


def test_a_process_that_just_found_a_run_queued_does_not_ask_the_cache_again(petition, monkeypatch):
    """With a real worker, a viral petition's sign POSTs do not each pay a cache round trip to
    learn that a run of emails is on its way; the run waits as long before it looks, so that no
    signature made meanwhile is missed."""
    from django.core.cache import cache

    monkeypatch.setitem(tasks.send_due_confirmations.app.conf, "task_always_eager", False)
    monkeypatch.setattr(confirmations, "_run_seen_at", float("-inf"))
    asked = mock.Mock(wraps=cache.add)
    monkeypatch.setattr(confirmations.cache, "add", asked)
    with mock.patch.object(tasks.send_due_confirmations, "apply_async") as queued:
        confirmations.queue_confirmations()
        confirmations.queue_confirmations()
        assert (asked.call_count, queued.call_count) == (1, 1)
        confirmations._run_seen_at -= confirmations.QUEUE_CHECK_SECONDS  # time passes
        confirmations.queue_confirmations()
        assert (asked.call_count, queued.call_count) == (2, 1)  # asked; a run is still due

    make_signature(petition, email="late@example.org")
    waited = []
    due_key = confirmations.CONFIRMATIONS_DUE_KEY
    monkeypatch.setattr(
        confirmations.time, "sleep", lambda s: waited.append((s, cache.get(due_key)))
    )
    assert tasks.send_due_confirmations.run() == 1
    # after clearing the key, before looking
    assert waited == [(confirmations.QUEUE_CHECK_SECONDS, None)]


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
