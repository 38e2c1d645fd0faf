"""The campaign dashboard: each petition's figures, charts and the latest signatures, for the
campaign's staff only."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from petitions.models import Signature
from petitions.services import signing
from tests.conftest import a_moment_later, make_signature


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
