"""Signing on the real stack: HTTP to a live server, a task published to Redis, a separate Celery
worker process, an email over SMTP, and the confirmation link followed back over HTTP.

Run with PostgreSQL and Redis, e.g.
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_integration_dev \
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/pytest tests/integration -q
Without them (the default SQLite run) these tests skip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from petitions.models import Petition, Signature, Tally
from petitions.tasks import requeue_unsent_confirmations

from .conftest import (
    REAL_STACK_SKIP_REASON,
    CeleryWorker,
    HttpClient,
    MailSink,
    ReceivedMail,
    csrf_token_in,
    real_stack_configured,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not real_stack_configured(), reason=REAL_STACK_SKIP_REASON),
]

CONFIRM_LINK = (
    r"/confirm/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[0-9a-f]{40}/"
)


def signature_count(http: HttpClient, petition: Petition) -> int:
    response = http.get(reverse("petitions:detail_json", args=[petition.slug]))
    assert response.status == 200, response.body
    return json.loads(response.body)["signature_count"]


def sign_through_the_page(http: HttpClient, petition: Petition, address: str) -> None:
    """Load the petition page (cached for everyone, without a token) and POST its form from
    it, as a browser does (the client sends the page as Referer)."""
    page = http.get(petition.get_absolute_url())
    assert page.status == 200, page.body
    assert "csrfmiddlewaretoken" not in page.body
    response = http.post(
        reverse("petitions:sign", args=[petition.slug]),
        {
            "name": "Kim Min-ji",
            "email": address,
            "country": "KR",
            "city": "Seoul",
            "consent": "on",
        },
    )
    assert response.status == 200, response.body
    assert response.url.endswith(reverse("petitions:signed", args=[petition.slug])), response.url


def the_one_mail_to(smtp_server: MailSink, address: str, worker: CeleryWorker) -> ReceivedMail:
    mails = wait_for(
        lambda: smtp_server.to(address), f"the confirmation email to {address}", worker=worker
    )
    assert len(mails) == 1, smtp_server.describe()
    return mails[0]


def confirmation_link_in(mail: ReceivedMail, base_url: str) -> str:
    assert mail.message["Subject"].startswith("Please confirm your signature"), mail.message
    match = re.search(re.escape(base_url) + CONFIRM_LINK, mail.text)
    assert match, f"no confirmation link to {base_url} in:\n{mail.text}"
    return match.group(0)


def test_signing_sends_a_confirmation_email_through_a_real_worker_and_its_link_counts_once(
    live_server,
    transactional_db: None,
    petition: Petition,
    http: HttpClient,
    smtp_server: MailSink,
    start_worker: Callable[[], CeleryWorker],
    settings,
) -> None:
    settings.COUNT_FOLD_INLINE = False  # the live server leaves counting to the worker
    address = "min-ji@example.org"
    worker = start_worker()
    worker.wait_until_ready()
    assert signature_count(http, petition) == 0

    sign_through_the_page(http, petition, address)

    mail = the_one_mail_to(smtp_server, address, worker)
    assert mail.message["To"] == address
    link = confirmation_link_in(mail, live_server.url)
    signature = Signature.objects.get(petition=petition, email_canonical=address)
    assert f"/confirm/{signature.uuid}/" in link
    assert signature.confirmations_sent == 1

    # Following the link (as a mail scanner would) shows a button and changes nothing.
    page = http.get(link)
    assert page.status == 200, page.body
    assert "Confirm my signature" in page.body
    assert signature_count(http, petition) == 0
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING

    # Pressing the button confirms and counts the signature once; pressing it again does not.
    # The confirming request folds the tally into the count, after its commit.
    confirmed = http.post(link, {"csrfmiddlewaretoken": csrf_token_in(page.body)})
    assert confirmed.status == 200, confirmed.body
    assert confirmed.url.endswith(reverse("petitions:thanks", args=[petition.slug]))
    wait_for(lambda: signature_count(http, petition) == 1, "the count to fold", worker=worker)
    again = http.post(link, {"csrfmiddlewaretoken": csrf_token_in(page.body)})
    assert again.status == 200, again.body
    assert not Tally.objects.exists()
    assert signature_count(http, petition) == 1
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert len(smtp_server.messages) == 1, smtp_server.describe()


def test_a_confirmation_lost_before_any_worker_ran_is_requeued_and_delivered(
    live_server,
    transactional_db: None,
    petition: Petition,
    http: HttpClient,
    smtp_server: MailSink,
    start_worker: Callable[[], CeleryWorker],
    settings,
) -> None:
    address = "cho@example.org"
    settings.CONFIRMATION_REQUEUE_AFTER_SECONDS = 300

    # No worker is running: the signature is saved, its email asked for and not yet sent.
    sign_through_the_page(http, petition, address)
    signature = Signature.objects.get(petition=petition, email_canonical=address)
    assert signature.status == Signature.Status.PENDING
    assert (signature.confirmations_requested, signature.confirmations_sent) == (1, 0)

    # The request published exactly one task; lose it, as Redis without persistence does when
    # it restarts. The signature row is all that is left.
    assert celery_app.control.purge() == 1

    # A signature younger than the cutoff is not requeued (its first email may still be coming).
    assert requeue_unsent_confirmations() == 0

    worker = start_worker()
    worker.wait_until_ready()
    assert smtp_server.messages == [], smtp_server.describe()

    # Older than the worker's cutoff (CONFIRMATION_REQUEUE_AFTER_SECONDS=10 in its environment),
    # the periodic task, run by the worker as beat would run it, queues the email again.
    Signature.objects.filter(pk=signature.pk).update(created_at=timezone.now() - timedelta(hours=1))
    requeue_unsent_confirmations.delay()

    mail = the_one_mail_to(smtp_server, address, worker)
    link = confirmation_link_in(mail, live_server.url)
    assert f"/confirm/{signature.uuid}/" in link
    signature.refresh_from_db()
    assert (signature.confirmations_requested, signature.confirmations_sent) == (1, 1)
    assert signature.status == Signature.Status.PENDING
    assert signature_count(http, petition) == 0
