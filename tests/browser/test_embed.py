from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_partner_page_shows_the_petition_card_from_the_script(page, partner_site, petition):
    page.goto(partner_site)

    frame = page.frame_locator("iframe[title=Petition]")
    frame.locator(".embed-card").wait_for(timeout=10_000)
    assert petition.title in frame.locator("h1").inner_text()
    assert frame.locator(".signature-count").inner_text() == "0"
    link = frame.locator("a", has_text="Sign this petition")
    assert link.get_attribute("href").endswith(petition.get_absolute_url())
