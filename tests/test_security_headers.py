"""Every response carries a strict Content-Security-Policy and a Permissions-Policy
(config/headers.py): self only, nothing inline, framed by no one but the embed card's hosts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from petitions.models import Signature
from petitions.services import counting
from petitions.web import charts
from tests.conftest import SIGN_DATA, make_signature, post_form

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
    assert not INLINE.search(response.content.decode())


def test_the_sign_post_has_the_policy(client, petition):
    response = post_form(client, reverse("petitions:sign", args=[petition.slug]), SIGN_DATA)

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
    assert not INLINE.search(response.content.decode())


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
    assert not INLINE.search(response.content.decode())


def test_pages_under_debug_keep_the_policy_but_djangos_debug_404_has_none(db, client, settings):
    """Django's own debug pages style themselves inline; they are never seen in production."""
    settings.DEBUG = True

    assert_strict(client.get("/"))
    assert CSP not in client.get("/nowhere/").headers


# Nothing inline to allow: the templates and the SVG that Python draws ----------------------

PAGES = sorted(
    path
    for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html")
    if "emails" not in path.parts  # emails are not pages: mail programs want inline styles
)
INLINE = re.compile(r"\sstyle\s*=|<style|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


@pytest.mark.parametrize("template", PAGES, ids=lambda path: path.name)
def test_no_page_template_has_inline_style_or_script(template):
    text = template.read_text()

    assert not INLINE.search(text)
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag, tag


def test_the_charts_and_the_map_have_no_style_attributes(petition):
    for number, country in enumerate(["KR", "GB"]):
        make_signature(
            petition,
            f"signer{number}@example.org",
            country=country,
            status=Signature.Status.CONFIRMED,
            verified_at=datetime(2026, 3, 1, 12 + number, tzinfo=UTC),
        )
    counting.rebuild(petition)

    for svg in (
        charts.timeline_svg(petition),
        charts.countries_svg(petition),
        charts.world_map_svg(petition),
    ):
        assert "<svg" in svg
        assert not INLINE.search(svg)
