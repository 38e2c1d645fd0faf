from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from petitions.models import Petition, Signature
from petitions.tokens import make_token
from tests.conftest import a_moment_later, make_signature, on_commit_runs


def confirm_url(signature: Signature, token: str | None = None) -> str:
    return reverse("petitions:confirm", args=[signature.uuid, token or make_token(signature.uuid)])


@pytest.fixture
def pending(petition) -> Signature:
    return make_signature(petition)


def count(petition: Petition) -> int:
    """The count a moment later, once the fold has run."""
    a_moment_later()
    petition.refresh_from_db()
    return petition.signature_count


def test_opening_the_link_shows_a_button_and_changes_nothing(client, pending, petition):
    response = client.get(confirm_url(pending))

    assert response.status_code == 200
    assert b"Confirm my signature" in response.content
    assert b'method="post"' in response.content
    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING
    assert count(petition) == 0


def test_pressing_the_button_confirms_and_counts(client, pending, petition):
    response = client.post(confirm_url(pending))

    assert response.status_code == 302
    assert response["Location"] == reverse("petitions:thanks", args=[petition.slug])
    pending.refresh_from_db()
    assert pending.status == Signature.Status.CONFIRMED
    assert pending.verified_at is not None
    assert count(petition) == 1


def test_the_thank_you_page_shows_the_new_count(client, pending, petition):
    """The first confirmation in a while folds its own count as it commits."""
    with on_commit_runs():
        confirmed = client.post(confirm_url(pending))
    response = client.get(confirmed["Location"])

    assert b"your signature counts" in response.content
    assert b'<strong class="signature-count fs-4">1</strong>' in response.content


def test_confirming_twice_counts_once(client, pending, petition):
    client.post(confirm_url(pending))
    second = client.post(confirm_url(pending))

    assert second.status_code == 302
    assert count(petition) == 1


def test_an_already_confirmed_link_says_so(client, pending):
    client.post(confirm_url(pending))

    response = client.get(confirm_url(pending))

    assert b"already confirmed" in response.content


@pytest.mark.parametrize("token", ["0" * 40, "short", "x" * 500])
def test_a_wrong_token_is_refused(client, pending, petition, token):
    assert client.get(confirm_url(pending, token)).status_code == 404
    assert client.post(confirm_url(pending, token)).status_code == 404
    assert count(petition) == 0


def test_another_signatures_token_does_not_work(client, petition, pending):
    other = make_signature(petition, email="other@example.org")

    response = client.post(confirm_url(pending, make_token(other.uuid)))

    assert response.status_code == 404
    assert count(petition) == 0


def test_an_unknown_signature_is_a_404(client, db):
    url = "/confirm/8c1f3f0e-4b7a-4a0e-9a59-0c6b1f7d9e11/abc/"

    assert client.get(url).status_code == 404


def test_an_unknown_signature_with_a_token_of_its_own_is_a_404(client, db):
    unknown = uuid.uuid4()

    assert client.post(f"/confirm/{unknown}/{make_token(unknown)}/").status_code == 404


def test_a_malformed_uuid_is_a_404(client, db):
    assert client.get("/confirm/not-a-uuid/abc/").status_code == 404


def test_it_rejects_other_methods(client, pending):
    assert client.put(confirm_url(pending)).status_code == 405


def test_it_requires_the_csrf_token(pending, petition):
    response = Client(enforce_csrf_checks=True).post(confirm_url(pending))

    assert response.status_code == 403
    assert count(petition) == 0


def test_a_signature_is_not_counted_once_the_petition_has_closed(client, pending, petition):
    petition.status = Petition.Status.CLOSED
    petition.save()

    response = client.post(confirm_url(pending))

    assert response.status_code == 409
    assert b"has closed" in response.content
    assert count(petition) == 0


@pytest.mark.parametrize(
    ("opens_in", "closes_in", "counted"),
    [(None, timedelta(hours=1), True), (None, -timedelta(seconds=1), False),
     (timedelta(hours=1), None, False), (-timedelta(days=1), timedelta(days=1), True)],
)  # fmt: skip
def test_a_signature_counts_only_between_the_petitions_opening_and_closing_times(
    client, pending, petition, opens_in, closes_in, counted
):
    now = timezone.now()
    petition.opens_at = now + opens_in if opens_in else None
    petition.closes_at = now + closes_in if closes_in else None
    petition.save()

    response = client.post(confirm_url(pending))

    assert response.status_code == (302 if counted else 409)
    assert count(petition) == (1 if counted else 0)
    pending.refresh_from_db()
    assert pending.status == (Signature.Status.CONFIRMED if counted else Signature.Status.PENDING)


@pytest.mark.parametrize(
    ("opens", "closes", "counted"), [(True, False, True), (False, True, False)]
)
def test_a_confirmation_at_the_very_moment_the_petition_opens_counts_and_as_it_closes_does_not(
    client, pending, petition, opens, closes, counted
):
    """At a moment as round as 2000-01-01 00:00 UTC too: each confirmation's own moment and
    petition are what its petition's opening and closing times are compared with."""
    moment = datetime(2000, 1, 1, tzinfo=UTC)
    petition.opens_at = moment if opens else None
    petition.closes_at = moment if closes else None
    petition.save()

    with time_machine.travel(moment, tick=False):
        response = client.post(confirm_url(pending))

    assert response.status_code == (302 if counted else 409)
    assert count(petition) == (1 if counted else 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_the_same_link_pressed_by_several_requests_at_once_counts_once(petition):
    pending = make_signature(petition)
    barrier = threading.Barrier(4)
    statuses = []

    def press() -> None:
        try:
            barrier.wait()
            statuses.append(Client().post(confirm_url(pending)).status_code)
        finally:
            connections.close_all()

    pressing = [threading.Thread(target=press) for _ in range(4)]
    for thread in pressing:
        thread.start()
    for thread in pressing:
        thread.join()

    assert statuses == [302] * 4
    assert count(petition) == 1
    pending.refresh_from_db()
    assert pending.status == Signature.Status.CONFIRMED


@pytest.mark.parametrize("status", [Signature.Status.INVALIDATED, Signature.Status.WITHDRAWN])
def test_a_removed_signature_cannot_be_confirmed(client, petition, status):
    signature = make_signature(petition, status=status)

    response = client.post(confirm_url(signature))

    assert response.status_code == 409
    assert count(petition) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plan")
def test_confirming_reads_the_signature_by_its_key_not_every_pending_one(client, petition):
    signatures = [make_signature(petition, f"p{n}@example.org") for n in range(200)]
    with CaptureQueriesContext(connection) as queries:
        client.post(confirm_url(signatures[100]))
    (update,) = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "petitions_signature"')]

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {update}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Scan using petitions_signature_pkey on petitions_signature" in plan
    assert "petitions_s_petitio" not in plan  # the (petition, status, verified_at) index
