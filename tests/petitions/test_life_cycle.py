"""The petition life cycle: draft or scheduled (not public), opened and closed on schedule by a
periodic task, presented, archived (public, no longer listed); staff preview what is not public."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from petitions import tasks
from petitions.models import Petition
from tests.conftest import SIGN_DATA, make_petition


def test_a_scheduled_petition_is_hidden_until_the_task_opens_it(client, campaign):
    soon = timezone.now() + timedelta(minutes=5)
    petition = make_petition(campaign, "scheduled", status="scheduled", opens_at=soon)

    assert client.get(petition.get_absolute_url()).status_code == 404
    assert tasks.advance_petitions.apply().get() == 0  # not yet

    Petition.objects.filter(pk=petition.pk).update(opens_at=timezone.now() - timedelta(seconds=1))
    assert tasks.advance_petitions.apply().get() == 1

    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN and petition.is_accepting_signatures
    assert client.get(petition.get_absolute_url()).status_code == 200
    event = AuditEvent.objects.get(action="petition opened on schedule")
    assert event.actor is None and event.target == str(petition)


def test_an_open_petition_is_closed_when_its_time_comes(client, petition):
    Petition.objects.filter(pk=petition.pk).update(closes_at=timezone.now() - timedelta(seconds=1))

    assert tasks.advance_petitions.apply().get() == 1
    assert tasks.advance_petitions.apply().get() == 0  # run again: nothing more to do

    petition.refresh_from_db()
    assert petition.status == Petition.Status.CLOSED
    data = client.get(reverse("petitions:count_json", args=[petition.slug])).json()
    assert data["accepting_signatures"] is False
    response = client.post(reverse("petitions:sign", args=[petition.slug]), SIGN_DATA)
    assert response.status_code == 409
    assert AuditEvent.objects.filter(action="petition closed on schedule").count() == 1


def test_an_archived_petition_keeps_its_page_but_leaves_the_lists(client, petition):
    Petition.objects.filter(pk=petition.pk).update(status="archived")

    assert client.get(petition.get_absolute_url()).status_code == 200
    assert petition.title not in client.get("/").content.decode()
    assert petition.title not in client.get(petition.campaign.get_absolute_url()).content.decode()
    listed = client.get("/petitions.json", {"status": "archived"}).json()
    assert [p["slug"] for p in listed["results"]] == [petition.slug]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"status": "scheduled", "opens_at": None}, "opens_at"),
        (
            {"opens_at": timezone.now(), "closes_at": timezone.now() - timedelta(days=1)},
            "closes_at",
        ),
    ],
)
def test_dates_that_cannot_work_are_refused(campaign, fields, error):
    petition = Petition(
        campaign=campaign, title_en="T", slug="t", target_en="X", statement_en="S", **fields
    )

    with pytest.raises(ValidationError) as refused:
        petition.clean()

    assert error in refused.value.message_dict


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_staff_preview_what_is_not_public_and_nobody_else_does(
    client, campaign, viewer, outsider, status
):
    petition = make_petition(
        campaign, "not-yet", title_en="Not yet public", status=status,
        opens_at=timezone.now() + timedelta(days=2),
    )  # fmt: skip
    url = reverse("petitions:preview", args=[petition.slug])

    anonymous = client.get(url)
    client.force_login(outsider)
    stranger = client.get(url)
    client.force_login(viewer)
    member = client.get(url)

    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert stranger.status_code == 404
    assert member.status_code == 200
    page = member.content.decode()
    assert "Preview" in page and "Not yet public" in page and 'id="sign-form"' in page
    assert member["X-Robots-Tag"] == "noindex"
    assert "no-cache" in member["Cache-Control"] or "no-store" in member["Cache-Control"]
    assert client.get(petition.get_absolute_url()).status_code == 404  # still not public


def test_the_admin_links_a_draft_to_its_preview(client, superuser, draft_petition):
    client.force_login(superuser)

    page = client.get(f"/admin/petitions/petition/{draft_petition.pk}/change/").content.decode()

    assert reverse("petitions:preview", args=[draft_petition.slug]) in page
