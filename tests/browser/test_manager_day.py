"""A manager's way through the staff side, in a real browser: create a campaign and a petition,
open it, and see a supporter's signature arrive on the campaign dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from campaigns.models import Campaign
from petitions.models import Petition
from tests.browser.test_signing_journey import confirmation_link, fill_sign_form, sign_form
from tests.browser.test_staff_downloads_pdf import log_in

pytestmark = pytest.mark.browser


def choose(page: Page, field: str, text: str) -> None:
    """Pick a value in one of the admin's autocomplete (select2) boxes."""
    page.locator(f"#id_{field} + .select2").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def test_a_manager_creates_a_campaign_and_a_petition_and_watches_a_signature_arrive(
    page: Page, context: BrowserContext, manager, organisation, live_server, settings,
    mailoutbox, screenshot_dir,
):  # fmt: skip
    settings.SITE_URL = live_server.url
    log_in(page, "manuel", "correct horse battery")

    page.goto("/admin/campaigns/campaign/add/")
    choose(page, "organisation", organisation.name)
    page.locator("#id_title_en").fill("Vigil for the Shenyang Ten")
    page.locator("#id_status").select_option("live")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    campaign = Campaign.objects.get(slug="vigil-for-the-shenyang-ten")

    page.goto("/admin/petitions/petition/add/")
    choose(page, "campaign", "Vigil for the Shenyang Ten")
    page.locator("#id_title_en").fill("Free the Shenyang Ten")
    page.locator("#id_target_en").fill("The Government of the People's Republic of China")
    page.locator("#id_statement_en").fill("Release them and let them go to South Korea.")
    page.locator("#id_status").select_option("open")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    petition = Petition.objects.get(slug="free-the-shenyang-ten")
    assert petition.campaign == campaign

    supporters = context.browser.new_context(base_url=live_server.url)
    try:
        supporter = supporters.new_page()
        supporter.goto(petition.get_absolute_url())
        fill_sign_form(sign_form(supporter), name="Lee Seo-yeon", email="seo-yeon@example.org")
        supporter.get_by_role("button", name="Sign this petition").click()
        expect(supporter.get_by_role("heading", level=1)).to_contain_text("check your email")
        supporter.goto(confirmation_link(mailoutbox[-1], live_server.url))
        supporter.get_by_role("button", name="Confirm my signature").click()
        expect(supporter.get_by_role("heading", level=1)).to_contain_text("Thank you")
    finally:
        supporters.close()

    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator(".dashboard-latest")).to_contain_text("Lee Seo-yeon")
    expect(page.locator(".dashboard-totals")).to_contain_text(re.compile(r"1\s+signature in all"))
    page.screenshot(path=screenshot_dir / "campaign-dashboard.png", full_page=True)
