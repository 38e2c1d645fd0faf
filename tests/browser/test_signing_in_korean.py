"""A supporter whose phone speaks Korean signs and confirms entirely in Korean: a shared English
link opens the Korean page, a mistake is explained in Korean, the email and its link are
Korean, and so are the confirmation and thanks pages."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.mail import EmailMessage
from playwright.sync_api import Browser, Page, expect

from petitions.models import Petition, Signature
from tests.browser.conftest import PHONE, PHONE_PROFILE, new_context
from tests.test_languages import translated

# text as the Korean pages say it; a string left in English fails the test.
korean = functools.partial(translated, language="ko")


@pytest.fixture
def korean_phone(browser: Browser, live_server, transactional_db: None) -> Iterator[Page]:
    """A 390 px phone whose browser asks for Korean first (Accept-Language: ko-KR)."""
    context = new_context(browser, live_server.url, locale="ko-KR", **PHONE_PROFILE)
    yield context.new_page()
    context.close()


def test_a_korean_supporter_signs_and_confirms_in_korean(
    korean_phone: Page,
    petition: Petition,
    live_server,
    settings,
    mailoutbox: list[EmailMessage],
    screenshot_dir: Path,
) -> None:
    settings.SITE_URL = live_server.url
    page = korean_phone

    page.goto(petition.get_absolute_url())  # the English link someone shared

    page.wait_for_url(f"**/ko/petitions/{petition.slug}/")
    assert page.locator("html").get_attribute("lang") == "ko"
    expect(page.get_by_role("heading", name=korean("Add your name"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshot_dir / "petition-korean-phone.png", full_page=True)

    form = page.locator("#sign-form")
    form.get_by_role("textbox", name=korean("Your name")).fill("김민준")
    form.get_by_role("textbox", name=korean("Email address")).fill("min-jun@localhost")
    form.get_by_role("combobox", name=korean("Country")).select_option("KR")
    form.get_by_role("textbox", name=re.compile(re.escape(korean("Town or city")))).fill("서울")
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name=korean("Sign this petition")).click()

    # An address without a full domain: explained in Korean, nothing recorded.
    expect(
        page.get_by_text(
            korean("Enter an address with a full domain name, such as name@example.org.")
        )
    ).to_be_visible()
    expect(
        page.get_by_text(korean("Please correct the errors below; nothing has been recorded yet."))
    ).to_be_visible()
    assert not Signature.objects.exists()

    form = page.locator("#sign-form")
    form.get_by_role("textbox", name=korean("Email address")).fill("min-jun@example.org")
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name=korean("Sign this petition")).click()

    page.wait_for_url(f"**/ko/petitions/{petition.slug}/signed/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        korean("One more step: check your email")
    )
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.subject == korean("Please confirm your signature: %(title)s") % {
        "title": petition.title
    }
    assert korean("Your signature counts only once you confirm it.") in message.alternatives[0][0]
    link = re.search(rf"{re.escape(live_server.url)}/ko/confirm/[0-9a-f-]+/[^/\s]+/", message.body)
    assert link, message.body

    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text(korean("Confirm your signature"))
    page.get_by_role("button", name=korean("Confirm my signature")).click()

    page.wait_for_url(f"**/ko/petitions/{petition.slug}/thanks/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        korean("Thank you — your signature counts")
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshot_dir / "thanks-korean-phone.png", full_page=True)
    signature = Signature.objects.get()
    assert (signature.status, signature.language, signature.name) == (
        Signature.Status.CONFIRMED,
        "ko",
        "김민준",
    )


def test_the_switcher_keeps_the_page_and_the_choice(
    korean_phone: Page, petition: Petition, live_server
) -> None:
    page = korean_phone
    page.goto(petition.get_absolute_url())
    page.wait_for_url(f"**/ko/petitions/{petition.slug}/")

    page.get_by_role("navigation", name=korean("Language")).get_by_role(
        "link", name="English"
    ).click()

    page.wait_for_url(f"{live_server.url}/petitions/{petition.slug}/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/")  # the browser still asks for Korean; the choice holds
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url == f"{live_server.url}/"
