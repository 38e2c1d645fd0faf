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


def test_due_confirmations_go_out_in_one_run_over_one_connection(petition, monkeypatch):
    owed = [make_signature(petition, email=f"owed{n}@example.org") for n in range(5)]
    make_signature(petition, email="done@example.org", confirmations_sent=1)
    make_signature(petition, email="removed@example.org", status=Signature.Status.INVALIDATED)
    opened = []
    real_get_connection = tasks.get_connection

    def counting_get_connection(*args, **kwargs):
        opened.append(1)
        return real_get_connection(*args, **kwargs)

    monkeypatch.setattr(tasks, "get_connection", counting_get_connection)

    assert tasks.send_due_confirmations.apply().get() == 5

    assert len(opened) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in owed)
    assert tasks.send_due_confirmations.apply().get() == 0  # run twice: nothing sent twice
    assert len(mail.outbox) == 5


def test_an_address_that_fails_does_not_hold_up_the_others(petition, monkeypatch):
    for n in range(3):
        make_signature(petition, email=f"s{n}@example.org")
    real_send = tasks.send_templated_email

    def refuse_one(name, to, context, connection=None):
        if to == "s1@example.org":
            raise smtplib.SMTPRecipientsRefused({to: (550, b"no such user")})
        real_send(name, to, context, connection)

    monkeypatch.setattr(tasks, "send_templated_email", refuse_one)

    result = tasks.send_due_confirmations.apply()

    assert isinstance(result.result, smtplib.SMTPException)  # retried later, for s1 only
    assert sorted(m.to[0] for m in mail.outbox) == ["s0@example.org", "s2@example.org"]
    assert Signature.objects.get(email="s1@example.org").confirmations_sent == 0


def test_signing_queues_one_run_for_many_signatures(client, petition, settings):
    from unittest import mock

    from petitions import signing
    from tests.conftest import on_commit_runs

    settings.CONFIRMATION_BATCH_DELAY_MS = 500
    with mock.patch.object(tasks.send_due_confirmations, "apply_async") as queued:
        for n in range(4):
            with on_commit_runs():
                signing.sign(petition, name="Min-ji", email=f"m{n}@example.org", country="KR")

    assert queued.call_count == 1
    assert queued.call_args.kwargs == {"countdown": 0.5}
    assert Signature.objects.owed_email().count() == 4
