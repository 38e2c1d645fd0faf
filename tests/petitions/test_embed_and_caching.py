from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import SIGN_DATA


def embed_url(petition) -> str:
    return reverse("petitions:embed", args=[petition.slug])


def test_the_embed_shows_title_count_progress_and_a_link_to_sign(client, petition, settings):
    settings.SITE_URL = "https://sign.example.org"

    response = client.get(embed_url(petition))

    page = response.content.decode()
    assert response.status_code == 200
    assert petition.title in page
    assert 'class="signature-count' in page and 'class="progress"' in page
    assert f'href="https://sign.example.org{petition.get_absolute_url()}"' in page
    assert 'target="_blank"' in page


def test_the_embed_may_be_framed_and_sets_no_cookie(client, petition):
    response = client.get(embed_url(petition))

    assert "X-Frame-Options" not in response
    assert not response.cookies
    assert "public" in response["Cache-Control"]


def test_other_pages_may_not_be_framed(client, petition):
    assert client.get(petition.get_absolute_url())["X-Frame-Options"] == "DENY"


def test_a_draft_petition_has_no_embed(client, draft_petition):
    assert client.get(embed_url(draft_petition)).status_code == 404


def test_the_embed_script_is_served(client, db):
    from django.contrib.staticfiles import finders

    assert finders.find("js/embed.js")


@pytest.mark.parametrize("path", ["/", "/campaigns/run-for-your-life/"])
def test_pages_without_forms_are_briefly_cacheable(client, campaign, petition, path):
    cache_control = client.get(path)["Cache-Control"]

    assert "public" in cache_control and "max-age=5" in cache_control


def test_the_petition_page_with_its_form_is_never_cached(client, petition):
    cache_control = client.get(petition.get_absolute_url())["Cache-Control"]

    assert "no-cache" in cache_control or "no-store" in cache_control
    assert "public" not in cache_control


def test_signing_and_confirming_are_never_cached(client, petition):
    sign = client.post(reverse("petitions:sign", args=[petition.slug]), SIGN_DATA)
    signed = client.get(reverse("petitions:signed", args=[petition.slug]))
    thanks = client.get(reverse("petitions:thanks", args=[petition.slug]))

    for response in (sign, signed, thanks):
        assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_the_form_from_a_fresh_page_still_passes_csrf(petition):
    client = Client(enforce_csrf_checks=True)
    page = client.get(petition.get_absolute_url())
    token = page.context["csrf_token"]

    response = client.post(
        reverse("petitions:sign", args=[petition.slug]),
        {**SIGN_DATA, "csrfmiddlewaretoken": str(token)},
    )

    assert response.status_code == 302
