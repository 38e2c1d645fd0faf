"""Every response carries a strict Content-Security-Policy and a Permissions-Policy
(config/headers.py): self only, nothing inline, framed by no one but the embed card's hosts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import SIGN_DATA

CSP = "Content-Security-Policy"


def directives(response) -> dict[str, str]:
    policy = response.headers[CSP]
    return dict(part.strip().partition(" ")[::2] for part in policy.split(";"))


def assert_strict(response, frame_ancestors: str = "'none'") -> None:
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == frame_ancestors
    assert "unsafe" not in response.headers[CSP]
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]


def test_the_petition_page_has_the_policy(client, petition):
    response = client.get(petition.get_absolute_url())

    assert response.status_code == 200
    assert_strict(response)
    assert response["X-Frame-Options"] == "DENY"


def test_the_sign_post_has_the_policy(client, petition):
    response = client.post(reverse("petitions:sign", args=[petition.slug]), SIGN_DATA)

    assert response.status_code == 302
    assert_strict(response)


@pytest.mark.parametrize("url", ["/", "/petitions.json", "/nowhere/", "/static/css/site.css"])
def test_other_public_answers_have_the_policy(client, petition, url):
    assert_strict(client.get(url))


def test_the_embed_card_may_be_framed_by_any_site(client, petition):
    response = client.get(reverse("petitions:embed", args=[petition.slug]))

    assert response.status_code == 200
    assert_strict(response, frame_ancestors="*")
    assert "X-Frame-Options" not in response


def test_the_admin_has_the_policy(client, owner, petition):
    assert_strict(client.get("/admin/login/"))
    client.force_login(owner)

    response = client.get(reverse("admin:petitions_petition_change", args=[petition.pk]))

    assert response.status_code == 200
    assert_strict(response)


def test_the_two_factor_page_has_the_policy(client, manager):
    client.force_login(manager, second_factor=False)

    response = client.get(reverse("admin:two_factor"))

    assert response.status_code == 200
    assert b"<svg" in response.content  # the QR code to set up an app
    assert_strict(response)


def test_pages_under_debug_keep_the_policy_but_djangos_debug_404_has_none(db, client, settings):
    """Django's own debug pages style themselves inline; they are never seen in production."""
    settings.DEBUG = True

    assert_strict(client.get("/"))
    assert CSP not in client.get("/nowhere/").headers


def test_each_policy_is_built_once_not_for_every_response(petition, monkeypatch):
    import config.headers

    built = []

    def build_policy(*parts):
        built.append(parts)
        return original(*parts)

    original = config.headers.build_policy
    monkeypatch.setattr(config.headers, "build_policy", build_policy)
    client = Client()  # a fresh handler: its middleware starts with no policies built

    for _ in range(3):
        client.get(petition.get_absolute_url())
        client.get(reverse("petitions:embed", args=[petition.slug]))

    assert len(built) == 2  # the site's policy, and the embed card's
