from __future__ import annotations

import pytest
from django.db.models import F
from playwright.sync_api import expect

from petitions.models import Petition

pytestmark = pytest.mark.browser


def test_the_count_rises_on_an_open_page_without_a_reload(page, live_server, petition):
    page.goto(live_server.url + petition.get_absolute_url())
    count = page.locator(".signature-count")
    assert count.inner_text() == "0"
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    Petition.objects.filter(pk=petition.pk).update(signature_count=F("signature_count") + 1234)

    # expect() polls from Playwright's own world: the page's policy allows no eval, which
    # page.wait_for_function() would need.
    expect(count).to_have_text("1,234", timeout=15_000)
    assert page.evaluate("window.loadedOnce") is True
    assert page.locator(".signature-word").inner_text() == "signatures"
    # The goal of 100 was passed: it is raised in steps (to 2,000) and the bar follows.
    assert page.locator(".signature-goal").inner_text() == "2,000"
    assert page.locator(".progress").get_attribute("aria-valuenow") == "61"
