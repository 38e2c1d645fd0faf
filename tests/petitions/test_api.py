from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from petitions.models import Petition, Signature
from petitions.services import counting
from tests.conftest import make_petition, make_signature

LIST = "/petitions.json"


@pytest.fixture
def several(campaign, organisation) -> list[Petition]:
    now = timezone.now()
    other = Campaign.objects.create(
        organisation=organisation, title_en="Refugees Day", slug="refugees-day", status="live"
    )
    return [
        make_petition(campaign, "oldest", opens_at=now - timedelta(days=30)),
        make_petition(campaign, "closed", opens_at=now - timedelta(days=20), status="closed"),
        make_petition(other, "newest", opens_at=now - timedelta(days=1)),
        make_petition(campaign, "draft", opens_at=now, status="draft"),
    ]


def slugs(response) -> list[str]:
    return [p["slug"] for p in response.json()["results"]]


def test_it_lists_public_petitions_newest_first(client, several):
    response = client.get(LIST)

    assert response.status_code == 200
    assert slugs(response) == ["newest", "closed", "oldest"]
    assert response.json()["count"] == 3
    assert response["Access-Control-Allow-Origin"] == "*"


def test_it_filters_by_status_and_campaign(client, several):
    assert slugs(client.get(LIST, {"status": "closed"})) == ["closed"]
    assert slugs(client.get(LIST, {"campaign": "refugees-day"})) == ["newest"]
    assert slugs(client.get(LIST, {"campaign": "no-such-campaign"})) == []


def test_it_pages(client, several):
    first = client.get(LIST, {"page_size": 2}).json()
    second = client.get(LIST, {"page_size": 2, "page": 2}).json()

    assert [p["slug"] for p in first["results"]] == ["newest", "closed"]
    assert first["next"].endswith("page_size=2&page=2") and first["previous"] is None
    assert [p["slug"] for p in second["results"]] == ["oldest"]
    assert second["next"] is None and second["previous"].endswith("page=1")


@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "x"},
        {"page_size": "101"},
        {"status": "draft"},
        {"status": "<script>"},
    ],
)
def test_bad_parameters_get_a_clear_400(client, several, query):
    response = client.get(LIST, query)

    assert response.status_code == 400
    assert "error" in response.json()


def test_the_list_takes_a_fixed_number_of_queries(client, campaign, django_assert_max_num_queries):
    for n in range(12):
        make_petition(campaign, f"p{n}")

    with django_assert_max_num_queries(3):
        assert client.get(LIST).status_code == 200


def test_the_petition_json_counts_signatures_by_country(client, petition):
    for n, country in enumerate(["KR", "KR", "GB"]):
        make_signature(petition, f"c{n}@example.org", country=country, status="confirmed")
    make_signature(petition, "pending@example.org", country="US")
    make_signature(petition, "gone@example.org", country="FR", status="invalidated")
    counting.rebuild(petition)

    data = client.get(reverse("petitions:detail_json", args=[petition.slug])).json()

    assert data["signatures_by_country"] == {"KR": 2, "GB": 1}
    assert data["url"].endswith(petition.get_absolute_url())
    assert data["count_url"].endswith(reverse("petitions:count_json", args=[petition.slug]))


def test_the_by_country_figures_follow_the_count(client, petition):
    url = reverse("petitions:detail_json", args=[petition.slug])
    assert client.get(url).json()["signatures_by_country"] == {}

    make_signature(petition, "new@example.org", country="JP", status=Signature.Status.CONFIRMED)
    counting.rebuild(petition)

    assert client.get(url).json()["signatures_by_country"] == {"JP": 1}


def test_an_unknown_parameter_is_refused_not_ignored(client, several):
    response = client.get(LIST, {"stauts": "open"})

    assert response.status_code == 400
    assert "stauts" in response.json()["error"]


def test_a_poll_is_answered_from_the_memo_but_a_page_restored_from_cache_gets_the_count_now(
    client, petition
):
    """live-count.js asks past every cache (fetch's "reload" sends Cache-Control: no-cache) when
    it is shown a lower count than its tab has shown: a supporter who has just confirmed must see
    their signature counted."""
    url = reverse("petitions:count_json", args=[petition.slug])
    assert client.get(url).json()["signature_count"] == 0
    Petition.objects.filter(pk=petition.pk).update(signature_count=1)  # a confirmation folded

    assert client.get(url).json()["signature_count"] == 0  # this process's memo, for a second
    fresh = client.get(url, headers={"Cache-Control": "no-cache"})
    assert fresh.json()["signature_count"] == 1
