"""The petition page is cached for everyone, without a CSRF token: signing from it must work in
a browser, with JavaScript and without it (the browser's Origin and Sec-Fetch-Site headers are
what the sign view checks)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from petitions.models import Signature
from tests.browser.conftest import DESKTOP, new_context
from tests.browser.test_signing_journey import fill_sign_form, sign_form

pytestmark = pytest.mark.browser


def test_signing_from_the_cached_page_records_the_signature(page: Page, petition, live_server):
    page.goto(petition.get_absolute_url())  # rendered and cached
    page.goto(petition.get_absolute_url())  # served from the cache: no token in it
    assert page.locator("input[name=csrfmiddlewaretoken]").count() == 0

    fill_sign_form(sign_form(page), name="Ayşe Yılmaz", email="ayse@example.org")
    page.get_by_role("button", name="Sign this petition").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("check your email")
    assert Signature.objects.get(petition=petition).name == "Ayşe Yılmaz"


def test_without_javascript_the_form_signs_too(
    browser: Browser, petition, live_server, transactional_db
):
    context = new_context(browser, live_server.url, viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(petition.get_absolute_url())
        fill_sign_form(sign_form(page), name="Ayşe Yılmaz", email="ayse@example.org")
        page.get_by_role("button", name="Sign this petition").click()

        expect(page.get_by_role("heading", level=1)).to_contain_text("check your email")
        assert Signature.objects.get(petition=petition).email == "ayse@example.org"
    finally:
        context.close()
