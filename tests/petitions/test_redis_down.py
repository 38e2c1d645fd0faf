"""Signing and the public pages while Redis (the cache and the broker) cannot be reached: every
request is answered as usual, from the database, and nothing is lost. tests/integration/
test_redis_outage.py stops a real Redis under a stream of signatures."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from petitions import tasks
from petitions.models import Petition, Signature, SigningLimit, SigningRule
from petitions.services import abuse
from petitions.tokens import make_token
from tests.conftest import SIGN_DATA, make_signature, on_commit_runs, post_form

pytestmark = pytest.mark.usefixtures("cache_down")


def sign(client, petition, **overrides):
    with on_commit_runs():
        url = reverse("petitions:sign", args=[petition.slug])
        return post_form(client, url, {**SIGN_DATA, **overrides})


def test_signing_goes_on_and_the_email_goes_out(client, petition):
    response = sign(client, petition)

    assert response.status_code == 302
    assert response["Location"] == reverse("petitions:signed", args=[petition.slug])
    signature = Signature.objects.get()
    assert (signature.status, signature.held_reason) == (Signature.Status.PENDING, "")
    assert len(mail.outbox) == 1


@pytest.mark.usefixtures("broker_down")
def test_with_the_broker_down_too_the_signature_is_kept_and_its_email_sent_later(client, petition):
    responses = [sign(client, petition, email=f"signer{n}@example.org") for n in range(5)]

    assert [r.status_code for r in responses] == [302] * 5
    assert Signature.objects.count() == 5
    assert not mail.outbox
    assert set(Signature.objects.values_list("confirmations_requested", "confirmations_sent")) == {
        (1, 0)
    }


def test_the_emails_owed_are_sent_by_the_periodic_requeue_once_the_broker_is_back(
    client, petition, broker_down
):
    sign(client, petition)
    broker_down()  # is back
    Signature.objects.update(created_at=timezone.now() - timedelta(hours=1))

    tasks.requeue_unsent_confirmations()

    assert [m.to for m in mail.outbox] == [["min-ji@example.org"]]


def test_the_block_list_is_read_from_the_database(client, petition):
    SigningRule.objects.create(kind=SigningRule.Kind.BLOCK, domain="example.org")

    sign(client, petition)

    assert Signature.objects.get().held_reason == "blocked: Block (always hold): example.org"


def test_the_signing_limits_are_read_from_the_database(db):
    SigningLimit.objects.update_or_create(
        scope=SigningLimit.Scope.PETITION, defaults={"limit": 7, "window_minutes": 3}
    )

    assert ("petition", 7, 3) in abuse.limits()


def test_a_burst_is_still_held_each_process_counting_on_its_own(client, petition):
    SigningLimit.objects.update_or_create(
        scope=SigningLimit.Scope.ADDRESS, defaults={"limit": 2, "window_minutes": 10}
    )

    for n in range(3):
        sign(client, petition, email=f"signer{n}@example.org")

    held = Signature.objects.order_by("pk").values_list("held_reason", flat=True)
    assert list(held) == ["", "", "more than 2 signatures from one address in 10 minutes"]


def test_the_email_caps_still_hold_each_process_counting_on_its_own(client, petition):
    """Else an outage would open the site to anyone making it mail any number of addresses:
    the emails owed are all sent once Redis is back."""
    SigningLimit.objects.update_or_create(
        scope=SigningLimit.Scope.EMAILS_FROM_CLIENT, defaults={"limit": 2, "window_minutes": 60}
    )

    for n in range(4):
        sign(client, petition, email=f"signer{n}@example.org")

    owed = Signature.objects.order_by("pk").values_list("confirmations_requested", flat=True)
    assert list(owed) == [1, 1, 0, 0]


@pytest.mark.usefixtures("broker_down")
def test_a_confirmation_folds_its_own_count(client, petition, settings):
    """With Redis, confirmations leave most folds to the one that found no fold in the last
    second (a cache key) and to a queued task; without it, each folds its own."""
    settings.COUNT_FOLD_INLINE = False
    signatures = [make_signature(petition, email=f"signer{n}@example.org") for n in range(3)]

    for signature in signatures:
        with on_commit_runs():
            response = client.post(
                reverse("petitions:confirm", args=[signature.uuid, make_token(signature.uuid)])
            )
        assert response.status_code == 302

    petition.refresh_from_db()
    assert petition.signature_count == 3
    assert petition.country_counts.get().count == 3


@pytest.mark.parametrize(
    "name", ["detail", "detail_json", "count_json", "embed", "paper_sheet", "signed", "thanks"]
)
def test_the_petitions_public_pages_are_served(client, petition, name):
    response = client.get(reverse(f"petitions:{name}", args=[petition.slug]))

    assert response.status_code == 200


def test_a_presented_petitions_page_and_json_are_served(client, petition):
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.PRESENTED)

    assert client.get(reverse("petitions:detail", args=[petition.slug])).status_code == 200
    assert client.get(reverse("petitions:detail_json", args=[petition.slug])).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/", "/campaigns/run-for-your-life/", "/petitions.json", "/api/openapi.json", "/privacy/"],
)
def test_the_other_public_pages_are_served(client, petition, url):
    assert client.get(url).status_code == 200


@pytest.mark.usefixtures("broker_down")
def test_the_log_says_once_that_redis_is_down_and_never_who_signed(client, petition, caplog):
    caplog.set_level(logging.INFO)

    for n in range(5):
        sign(client, petition, email=f"signer{n}@example.org", name=f"Signer Number{n}")
        client.get(reverse("petitions:detail", args=[petition.slug]))

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [w.split(" (")[0] for w in warnings] == [
        "the Redis cache cannot be reached",
        "the Celery broker cannot be reached",
    ]
    assert "signer" not in caplog.text.lower()
