"""Every public page, in every language, at 320 and 1280 px: axe-core finds no WCAG 2.2 A or AA
violation, and at 320 px no page scrolls sideways.

The pages are the demo's (`load_demo`), found by following links from the home page, with the
pages no link reaches: a petition's "check your email", confirmation and thanks pages, the embed
card and the page for a missing one. axe-core is kept beside this file (tests/browser/axe/, from
npm, with its licence) and put into each page as it loads (the context bypasses the site's
Content-Security-Policy for that one script; test_content_security_policy.py checks the policy).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Browser, Page

from petitions.mail.confirmations import confirm_path
from petitions.models import Petition
from tests.browser.conftest import new_context
from tests.conftest import make_signature

AXE = Path(__file__).with_name("axe") / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RULES = {"runOnly": {"type": "tag", "values": WCAG_22_AA}}
WIDTHS = (320, 1280)
NOT_PAGES = ("/admin/", "/static/", "/language/", ".json", ".pdf")


@pytest.fixture
def axe_page(browser: Browser, live_server, transactional_db: None) -> Iterator[Page]:
    context = new_context(browser, live_server.url, bypass_csp=True)
    yield context.new_page()
    context.close()


def public_pages(page: Page, language: str) -> list[str]:
    """The paths of the pages reachable by links from the home page in this language."""
    home = "/" if language == settings.LANGUAGE_CODE else f"/{language}/"
    found, queue = [], [home]
    while queue:
        path = queue.pop(0)
        if path in found:
            continue
        found.append(path)
        page.goto(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            url = urlparse(urljoin(page.url, href))
            if url.netloc != urlparse(page.url).netloc or any(p in url.path for p in NOT_PAGES):
                continue
            in_language = translation.get_language_from_path(url.path) or settings.LANGUAGE_CODE
            if in_language == language and url.path not in found + queue:
                queue.append(url.path)
    return found


def pages_no_link_reaches(language: str) -> list[str]:
    petition = Petition.objects.get(slug="safe-passage-for-north-korean-refugees")
    signature = make_signature(petition, "axe@example.org", name="Axe Test")
    with translation.override(language):
        return [
            reverse("petitions:signed", args=[petition.slug]),
            reverse("petitions:thanks", args=[petition.slug]),
            reverse("petitions:embed", args=[petition.slug]),
            confirm_path(signature.uuid),
            reverse("petitions:detail", args=["no-such-petition"]),
        ]


def violations(page: Page) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(f"axe.run(document, {json.dumps(RULES)})")
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
def test_no_public_page_has_an_accessibility_violation_or_scrolls_sideways(axe_page, language):
    call_command("load_demo", verbosity=0)
    page = axe_page
    paths = public_pages(page, language) + pages_no_link_reaches(language)
    assert len(paths) >= 10, paths
    found: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            page.goto(path)
            found += [f"{path} at {width} px: {v}" for v in violations(page)]
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if width == 320 and scroll > width:
                found.append(f"{path} at 320 px scrolls sideways ({scroll} px wide)")
    assert not found, "\n".join(found)
