from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from petitions.models import Petition, Signature
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


def test_the_petition_page_is_the_same_for_everyone_and_briefly_cacheable(petition):
    first = Client().get(petition.get_absolute_url())
    second = Client().get(petition.get_absolute_url())

    assert "public" in first["Cache-Control"] and "max-age=5" in first["Cache-Control"]
    assert not first.cookies and "Vary" not in first  # no visitor's cookie or token in it
    assert first.content == second.content
    assert b"csrfmiddlewaretoken" not in first.content
    assert b'data-csrf-url="/csrf-token.json"' in first.content


def test_the_cached_page_is_rendered_again_when_the_count_changes(client, petition):
    client.get(petition.get_absolute_url())
    Petition.objects.filter(pk=petition.pk).update(signature_count=77)

    page = client.get(petition.get_absolute_url()).content.decode()

    assert '<strong class="signature-count fs-4">77</strong>' in page


def test_signing_and_confirming_are_never_cached(client, petition):
    sign = client.post(reverse("petitions:sign", args=[petition.slug]), SIGN_DATA)
    signed = client.get(reverse("petitions:signed", args=[petition.slug]))
    thanks = client.get(reverse("petitions:thanks", args=[petition.slug]))

    for response in (sign, signed, thanks):
        assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_the_token_the_script_fetches_passes_csrf(petition):
    client = Client(enforce_csrf_checks=True)
    client.get(petition.get_absolute_url())
    answer = client.get(reverse("petitions:csrf_token"))

    assert "no-cache" in answer["Cache-Control"] or "no-store" in answer["Cache-Control"]
    assert answer.cookies["csrftoken"].value
    response = client.post(
        reverse("petitions:sign", args=[petition.slug]),
        {**SIGN_DATA, "csrfmiddlewaretoken": answer.json()["token"]},
    )

    assert response.status_code == 302
    assert Signature.objects.filter(petition=petition).count() == 1


def test_a_form_sent_without_a_token_comes_back_filled_in_to_send_again(petition):
    client = Client(enforce_csrf_checks=True)
    url = reverse("petitions:sign", args=[petition.slug])

    refused = client.post(url, SIGN_DATA)

    assert refused.status_code == 403
    assert "no-cache" in refused["Cache-Control"] or "no-store" in refused["Cache-Control"]
    page = refused.content.decode()
    assert "please press “Sign this petition” again" in page
    assert 'value="Kim Min-ji"' in page and 'value="min-ji@example.org"' in page
    assert not Signature.objects.exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    assert client.post(url, {**SIGN_DATA, "csrfmiddlewaretoken": token}).status_code == 302
    assert Signature.objects.filter(petition=petition).count() == 1


def test_other_forms_without_a_token_get_the_plain_csrf_refusal(petition):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/admin/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
    assert b"nothing was recorded" in response.content  # templates/403_csrf.html
