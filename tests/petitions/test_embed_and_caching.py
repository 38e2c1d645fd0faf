from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from petitions.models import Petition, Signature
from tests.conftest import SIGN_DATA, a_moment_later, post_form


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

    assert cache_control == "public, max-age=5, stale-while-revalidate=30"


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_petition_page_is_the_same_for_everyone_and_briefly_cacheable(petition, language):
    with translation.override(language):
        url = petition.get_absolute_url()
    first = Client().get(url)
    second = Client().get(url)

    assert "public" in first["Cache-Control"] and "max-age=5" in first["Cache-Control"]
    assert not first.cookies  # no visitor's cookie or token in it
    assert first.content == second.content
    assert b"csrfmiddlewaretoken" not in first.content
    # An English URL sends a visitor whose language is another to that page: caches keep one
    # copy for each Accept-Language and language cookie. A page in another language, one copy.
    vary = {"Accept-Language", "Cookie"} if language == "en" else set()
    assert set(filter(None, first.get("Vary", "").replace(" ", "").split(","))) == vary


def test_the_cached_page_is_rendered_again_when_the_count_changes(client, petition):
    client.get(petition.get_absolute_url())
    Petition.objects.filter(pk=petition.pk).update(signature_count=77)
    a_moment_later()

    page = client.get(petition.get_absolute_url()).content.decode()

    assert '<strong class="signature-count fs-4">77</strong>' in page


def test_signing_and_confirming_are_never_cached(client, petition):
    sign = post_form(client, reverse("petitions:sign", args=[petition.slug]), SIGN_DATA)
    signed = client.get(reverse("petitions:signed", args=[petition.slug]))
    thanks = client.get(reverse("petitions:thanks", args=[petition.slug]))

    never = "max-age=0, no-cache, no-store, must-revalidate, private"  # Django's never_cache
    for response in (sign, signed, thanks):
        assert response["Cache-Control"] == never
        assert "Expires" in response


SITE = "http://testserver"


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": SITE, "HTTP_SEC_FETCH_SITE": "same-origin"},  # a current browser
        {"HTTP_ORIGIN": SITE},  # a browser without Fetch Metadata
        {"HTTP_SEC_FETCH_SITE": "same-origin"},
        {},  # not a browser: no victim's cookies or address to borrow
    ],
)
def test_the_form_from_the_cached_page_signs_without_a_token(petition, headers):
    client = Client(enforce_csrf_checks=True)
    page = client.get(petition.get_absolute_url())

    response = post_form(
        client, reverse("petitions:sign", args=[petition.slug]), SIGN_DATA, **headers
    )

    assert b"csrfmiddlewaretoken" not in page.content
    assert response.status_code == 302
    assert Signature.objects.filter(petition=petition).count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example", "HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},  # a sibling subdomain is another site
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},  # a sandboxed frame or a data: page
    ],
)
def test_a_post_from_another_sites_page_is_refused_and_records_nothing(petition, headers):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("petitions:sign", args=[petition.slug]), SIGN_DATA, **headers)

    assert response.status_code == 403
    assert b"nothing was recorded" in response.content
    assert not Signature.objects.exists()


def test_other_forms_still_need_their_token(petition):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/admin/login/", {"username": "x", "password": "y"}, HTTP_ORIGIN=SITE)

    assert response.status_code == 403
    assert b"nothing was recorded" in response.content  # templates/403_csrf.html
