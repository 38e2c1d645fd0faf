from __future__ import annotations

import smtplib
from datetime import timedelta

import time_machine
from django.core import mail
from django.utils import timezone

from petitions import tasks
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

    monkeypatch.setattr(tasks, "send_templated_email", refuse)

    result = tasks.send_confirmation.apply(args=[signature.pk])

    assert result.failed()
    signature.refresh_from_db()
    assert signature.confirmations_sent == 0
    monkeypatch.undo()
    assert tasks.send_confirmation.apply(args=[signature.pk]).get() == "sent"


def test_a_claim_taken_by_another_worker_is_left_alone(petition, monkeypatch):
    signature = make_signature(petition)
    stale = tasks.load_signature(signature.pk)
    # Another worker claims the email between this worker's read and its conditional update.
    Signature.objects.filter(pk=signature.pk).update(confirmations_sent=1)
    monkeypatch.setattr(tasks, "load_signature", lambda pk: stale)

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
