from __future__ import annotations

import pytest
from django.urls import reverse

from petitions.models import Petition


def count_url(petition: Petition) -> str:
    return reverse("petitions:count_json", args=[petition.slug])


def test_it_gives_the_public_count_online_and_on_paper(client, petition):
    Petition.objects.filter(pk=petition.pk).update(signature_count=40, paper_count=10)

    data = client.get(count_url(petition)).json()

    assert data == {
        "slug": petition.slug,
        "signature_count": 50,
        "goal": 100,
        "progress_percent": 50,
        "accepting_signatures": True,
    }


@pytest.mark.parametrize("view", ["petitions:count_json", "petitions:detail_json"])
def test_public_json_is_open_to_other_sites_and_briefly_cacheable(client, petition, view):
    response = client.get(reverse(view, args=[petition.slug]))

    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=5, stale-while-revalidate=30"
    assert "Set-Cookie" not in response


def test_the_count_is_one_small_query(client, petition, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        client.get(count_url(petition))


def test_a_draft_petition_has_no_count(client, draft_petition):
    assert client.get(count_url(draft_petition)).status_code == 404


def test_it_rejects_post(client, petition):
    assert client.post(count_url(petition)).status_code == 405


def test_an_open_petition_page_polls_its_count(client, petition):
    page = client.get(petition.get_absolute_url()).content.decode()

    assert f'data-count-url="{count_url(petition)}"' in page
    assert "js/live-count.js" in page


def test_a_closed_petition_page_does_not_poll(client, closed_petition):
    page = client.get(closed_petition.get_absolute_url()).content.decode()

    assert "data-count-url" not in page
