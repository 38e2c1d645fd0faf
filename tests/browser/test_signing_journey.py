"""A supporter's way through signing, in a real browser against a live server.

The count a person sees must rise by exactly one, and only when they press the button on the
confirmation page: opening the emailed link (as mail scanners do) changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.mail import EmailMessage
from playwright.sync_api import BrowserContext, Locator, Page, expect

from petitions.models import Petition, Signature

pytestmark = pytest.mark.browser

NAME = "김민준"
POLL_MILLISECONDS = 5000  # static/js/live-count.js
EMAIL = "min-jun@example.org"


def shown_count(page: Page) -> int:
    """The number a person reads in the one element with class signature-count ("1,234")."""
    text = page.locator(".signature-count").inner_text()
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text), f"unexpected count text {text!r}"
    return int(text.replace(",", ""))


def sign_form(page: Page) -> Locator:
    form = page.locator("#sign-form")
    expect(form).to_be_visible()
    return form


def fill_sign_form(form: Locator, *, name: str, email: str) -> None:
    form.get_by_role("textbox", name="Your name").fill(name)
    form.get_by_role("textbox", name="Email address").fill(email)
    form.get_by_role("combobox", name="Country").select_option(label="South Korea")
    form.get_by_role("textbox", name="Town or city").fill("서울")
    form.get_by_role("checkbox", name="I agree").check()


def confirmation_link(message: EmailMessage, base_url: str) -> str:
    match = re.search(rf"{re.escape(base_url)}/confirm/[0-9a-f-]+/[^/\s]+/", message.body)
    assert match, f"no confirmation link in:\n{message.body}"
    return match.group(0)


def count_in_db(petition: Petition) -> int:
    return Petition.objects.values_list("signature_count", flat=True).get(pk=petition.pk)


def test_a_person_signs_and_confirms_and_the_count_rises_by_one(
    page: Page,
    context: BrowserContext,
    petition: Petition,
    live_server,
    settings,
    mailoutbox: list[EmailMessage],
    screenshot_dir: Path,
) -> None:
    settings.SITE_URL = live_server.url  # so that the emailed link leads to this server
    page.clock.install()  # the live counter's polls run when the test moves the clock on
    page.goto(petition.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(petition.title)
    before = shown_count(page)
    assert before == count_in_db(petition)
    page.screenshot(path=screenshot_dir / "petition-desktop.png", full_page=True)

    form = sign_form(page)
    fill_sign_form(form, name=NAME, email=EMAIL)
    form.get_by_role("button", name="Sign this petition").click()

    page.wait_for_url(f"**/petitions/{petition.slug}/signed/")
    expect(page.get_by_role("heading", level=1)).to_have_text("One more step: check your email")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [EMAIL]
    link = confirmation_link(mailoutbox[0], live_server.url)

    # Opening the link shows a button and counts nothing.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your signature")
    assert count_in_db(petition) == before
    assert Signature.objects.get(petition=petition).status == Signature.Status.PENDING
    # From here this server's web process keeps what it reads of the petition for a minute (in
    # production, a second), so the petition page it serves next is an older copy, and so are
    # its ordinary count polls.
    settings.PETITION_MEMO_SECONDS = 60
    other_tab = context.new_page()
    other_tab.goto(petition.get_absolute_url())
    assert shown_count(other_tab) == before
    other_tab.close()

    page.get_by_role("button", name="Confirm my signature").click()

    page.wait_for_url(f"**/petitions/{petition.slug}/thanks/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you — your signature counts")
    assert shown_count(page) == before + 1
    page.screenshot(path=screenshot_dir / "thanks-desktop.png", full_page=True)
    # The next poll is answered from the process's older read, but the count never goes back.
    with page.expect_response(lambda r: r.url.endswith("/count.json")):
        page.clock.run_for(POLL_MILLISECONDS)
    expect(page.locator(".signature-count")).to_have_text(f"{before + 1:,}")

    # Back on the petition page, served as the process read it before the confirmation (the
    # browser's own copy is gone, as it would be after five seconds): the live counter has seen
    # a higher count in this tab, so it asks past every cache at once.
    context.new_cdp_session(page).send("Network.clearBrowserCache")
    page.goto(petition.get_absolute_url())
    expect(page.locator(".signature-count")).to_have_text(f"{before + 1:,}")
    assert count_in_db(petition) == before + 1
    signature = Signature.objects.get(petition=petition)
    assert signature.status == Signature.Status.CONFIRMED
    assert (signature.name, signature.email, signature.country, signature.city) == (
        NAME,
        EMAIL,
        "KR",
        "서울",
    )


def test_a_form_with_an_empty_name_or_a_bad_email_shows_errors_and_records_nothing(
    page: Page,
    petition: Petition,
    live_server,
    mailoutbox: list[EmailMessage],
    screenshot_dir: Path,
) -> None:
    page.goto(petition.get_absolute_url())
    before = shown_count(page)
    form = sign_form(page)
    fill_sign_form(form, name="", email=EMAIL)
    name = form.get_by_role("textbox", name="Your name")
    email = form.get_by_role("textbox", name="Email address")

    # The browser itself stops an empty name before anything is sent.
    form.get_by_role("button", name="Sign this petition").click()
    assert name.evaluate("el => el.validity.valueMissing")
    assert page.url == live_server.url + petition.get_absolute_url()

    # What the browser lets through, the server must refuse: a name of spaces, and an address
    # without a dot in its domain.
    name.fill("   ")
    email.fill("min-jun@example")
    form.get_by_role("button", name="Sign this petition").click()

    page.wait_for_url(f"**/petitions/{petition.slug}/sign/")
    expect(page.get_by_role("alert")).to_contain_text("Please correct the errors below")
    form = sign_form(page)
    name = form.get_by_role("textbox", name="Your name")
    email = form.get_by_role("textbox", name="Email address")
    expect(name).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(email).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(form.get_by_text("This field is required.")).to_be_visible()
    expect(form.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(email).to_have_value("min-jun@example")  # kept, so that it can be corrected
    page.screenshot(path=screenshot_dir / "petition-errors-desktop.png", full_page=True)

    assert shown_count(page) == before
    assert count_in_db(petition) == before
    assert not Signature.objects.filter(petition=petition).exists()
    assert mailoutbox == []


def test_on_a_phone_the_petition_page_shows_the_form_and_count_without_sideways_scrolling(
    phone_page: Page, petition: Petition, screenshot_dir: Path
) -> None:
    page = phone_page
    page.goto(petition.get_absolute_url())

    expect(page.locator(".signature-count")).to_be_visible()
    form = sign_form(page)
    expect(form.get_by_role("button", name="Sign this petition")).to_be_visible()
    width = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert width["inner"] == 390
    assert width["scroll"] <= width["inner"], f"page is wider than the phone: {width}"
    page.screenshot(path=screenshot_dir / "petition-phone.png", full_page=True)
