"""The campaign dashboard: each petition's figures, charts and the latest signatures, for the
campaign's staff only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from petitions.admin.dashboard import figures
from petitions.models import Signature
from petitions.services import signing
from tests.conftest import a_moment_later, make_petition, make_signature, with_a_crowd


def dashboard_url(campaign) -> str:
    return reverse("admin:campaigns_campaign_dashboard", args=[campaign.pk])


def test_the_dashboard_shows_each_petitions_figures(client, manager, campaign, petition):
    for n in range(3):
        signing.confirm(make_signature(petition, f"c{n}@example.org", name=f"Confirmed {n}"))
    make_signature(petition, "p@example.org", name="Still Pending")
    make_signature(petition, "h@example.org", name="Held One", held_reason="honeypot")
    old = make_signature(petition, "old@example.org", name="Yesterday")
    signing.confirm(old)
    Signature.objects.filter(pk=old.pk).update(verified_at=timezone.now() - timedelta(days=2))
    signing.recount(petition)  # the hour it counts in is two days ago now
    a_moment_later()
    client.force_login(manager)

    response = client.get(dashboard_url(campaign))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>4</strong> signatures in all" in page
    assert 'class="dashboard-today">3<' in page
    assert "<strong>2</strong> waiting for confirmation" in page  # the held one is pending too
    assert "<td>67%</td>" in page  # 4 confirmed of 6
    assert 'class="chart chart-timeline"' in page and 'class="chart chart-countries"' in page
    latest = page[page.index("Latest signatures") :]
    assert "Held One" in latest and "(held)" in latest and "Still Pending" in latest
    assert "@example.org" not in page  # names only
    assert 'http-equiv="refresh"' in page


def test_the_campaign_page_links_its_dashboard(client, viewer, campaign):
    client.force_login(viewer)

    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    assert dashboard_url(campaign) in page.content.decode()
    assert client.get(dashboard_url(campaign)).status_code == 200


def test_outsiders_get_no_dashboard(client, outsider, campaign):
    client.force_login(outsider)

    assert client.get(dashboard_url(campaign)).status_code == 404
    assert client.get(reverse("admin:campaigns_campaign_dashboard", args=[999])).status_code == 404


def test_the_confirmation_rate_counts_confirmed_signatures_held_back_from_the_count(
    client, manager, campaign, petition
):
    signing.confirm(make_signature(petition, "counted@example.org"))
    signing.confirm(make_signature(petition, "held@example.org", held_reason="honeypot"))
    make_signature(petition, "p1@example.org")
    make_signature(petition, "p2@example.org")
    make_signature(petition, "gone@example.org", status=Signature.Status.INVALIDATED)
    a_moment_later()
    client.force_login(manager)

    (row,) = figures(campaign)["rows"]

    assert (row.pending, row.held, row.confirmation_rate) == (2, 1, 50)  # 2 confirmed of 4
    assert row.petition.total_count == 1


def test_the_latest_signatures_are_only_this_campaigns(client, manager, campaign, petition):
    make_signature(petition, "ours@example.org", name="One Of Ours")
    elsewhere = Campaign.objects.create(
        organisation=campaign.organisation, title_en="Elsewhere", slug="elsewhere"
    )
    make_signature(make_petition(elsewhere, "elsewhere"), "e@example.org", name="Not Here")

    latest = [signature.name for signature in figures(campaign)["latest"]]

    assert latest == ["One Of Ours"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plan")
def test_held_signatures_are_counted_through_their_partial_index(campaign, petition):
    make_signature(petition, "held@example.org", held_reason="honeypot")
    with_a_crowd(petition)
    with CaptureQueriesContext(connection) as queries:
        figures(campaign)
    (held,) = [q["sql"] for q in queries if "held_reason" in q["sql"] and "COUNT" in q["sql"]]

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {held}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "signature_held_idx" in plan
