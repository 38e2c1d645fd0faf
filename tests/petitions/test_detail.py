from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from petitions.models import Petition, Signature
from tests.conftest import make_petition, make_signature


def test_the_petition_page_shows_everything_a_supporter_needs(client, petition):
    Petition.objects.filter(pk=petition.pk).update(signature_count=25)  # as counting keeps it
    petition.refresh_from_db()

    response = client.get(petition.get_absolute_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert petition.title in page
    assert "Grant North Korean refugees safe passage." in page  # the statement
    assert "The Government of the People&#x27;s Republic of China" in page  # the target
    assert all(
        text in page for text in ["Grant them refugee status.", "Stop forcible repatriation."]
    )
    assert '<strong class="signature-count fs-4">25</strong>' in page
    assert 'aria-valuenow="25"' in page  # 25 of a goal of 100
    assert 'id="sign-form"' in page
    assert 'name="consent"' in page
    assert "csrfmiddlewaretoken" not in page  # the same page for everyone: see refuse_cross_site


def test_it_links_its_json(client, petition):
    page = client.get(petition.get_absolute_url()).content.decode()

    link = re.search(r'<link rel="alternate" type="application/json" href="([^"]+)">', page)
    assert link and link.group(1) == reverse("petitions:detail_json", args=[petition.slug])


def test_bootstrap_is_served_from_our_own_static_files(client, petition):
    page = client.get(petition.get_absolute_url()).content.decode()

    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
    assert "cdn" not in page.lower()


def test_the_json_holds_the_count_of_confirmed_signatures_only(client, petition):
    make_signature(petition, email="pending@example.org")
    make_signature(petition, email="gone@example.org", status=Signature.Status.INVALIDATED)
    Petition.objects.filter(pk=petition.pk).update(signature_count=7)  # as counting keeps it
    petition.refresh_from_db()

    data = client.get(reverse("petitions:detail_json", args=[petition.slug])).json()

    assert data["slug"] == petition.slug
    assert data["title"] == petition.title
    assert data["status"] == "open"
    assert data["goal"] == 100
    assert data["signature_count"] == 7
    assert data["campaign"] == petition.campaign.slug
    assert data["url"].endswith(petition.get_absolute_url())


def test_a_closed_petition_shows_why_and_no_form(client, closed_petition):
    page = client.get(closed_petition.get_absolute_url()).content.decode()

    assert "no longer takes signatures" in page
    assert 'id="sign-form"' not in page


@pytest.mark.parametrize("view", ["petitions:detail", "petitions:detail_json"])
def test_a_draft_petition_is_not_public(client, draft_petition, view):
    assert client.get(reverse(view, args=[draft_petition.slug])).status_code == 404


def test_a_petition_of_a_draft_campaign_is_not_public(client, organisation):
    hidden = Campaign.objects.create(organisation=organisation, title_en="Hidden", slug="hidden")
    petition = make_petition(hidden, "in-hidden")

    assert client.get(petition.get_absolute_url()).status_code == 404


def test_the_page_takes_a_fixed_number_of_queries(client, petition, django_assert_max_num_queries):
    for n in range(30):
        make_signature(
            petition,
            f"s{n}@example.org",
            status=Signature.Status.CONFIRMED,
            country=["KR", "GB", "JP"][n % 3],
            verified_at=timezone.now(),
        )
    # Cold: the petition, its demands, and three grouped queries for the charts.
    with django_assert_max_num_queries(5):
        client.get(petition.get_absolute_url())
    # Warm: the charts' figures come from the cache until the count changes.
    with django_assert_max_num_queries(2):
        client.get(petition.get_absolute_url())


def test_it_rejects_post_on_the_page_itself(client, petition):
    assert client.post(petition.get_absolute_url()).status_code == 405


def test_a_sign_post_with_errors_is_drawn_with_them_and_leaves_the_next_page_clean(
    client, petition
):
    """The red of one supporter's mistake never shows on the page everyone else gets."""
    from tests.conftest import SIGN_DATA, post_form

    sign = reverse("petitions:sign", args=[petition.slug])
    wrong = post_form(client, sign, {**SIGN_DATA, "name": "", "email": "not an address"})
    page = client.get(petition.get_absolute_url()).content.decode()

    assert wrong.status_code == 400
    assert (
        "is-invalid" in wrong.content.decode() and "valid email address" in wrong.content.decode()
    )
    assert "is-invalid" not in page and 'id="sign-form"' in page
    assert "Release International keeps my name" in page
