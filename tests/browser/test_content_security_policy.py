"""Every page works under the Content-Security-Policy (no inline script or style, nothing from
other sites), in Chromium: the public pages with the live counter, the map and the embed card
framed by a partner's site, and the admin's own scripts (actions, prepopulated slug, inlines'
"add another", date widgets) with our dashboard, second factor, present and count-first pages.
Any violation the browser reports, or any policy it cannot read, fails the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from playwright.sync_api import BrowserContext, Page, expect

from petitions.models import Petition, Signature
from petitions.services import counting
from tests.browser.test_manager_day import choose
from tests.browser.test_staff_downloads_pdf import log_in
from tests.conftest import make_signature

pytestmark = pytest.mark.browser

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => window.reportViolation(
  `${event.effectiveDirective} refused ${event.blockedURI || "inline"} `
  + `(${event.sourceFile}:${event.lineNumber}) on ${location.pathname}`
), true);
"""


@pytest.fixture
def violations(context: BrowserContext) -> list[str]:
    """What the browser refused or could not read, on every page and frame of the context."""
    seen: list[str] = []
    context.expose_binding("reportViolation", lambda source, text: seen.append(text))
    context.add_init_script(REPORT_VIOLATIONS)

    def console(message) -> None:
        if message.type == "error" and "Policy" in message.text:  # Content-Security-, Permissions-
            seen.append(f"console: {message.text}")

    context.on("console", console)
    context.on("weberror", lambda error: seen.append(f"script error: {error.error}"))
    return seen


@pytest.fixture
def signed_petition(petition) -> Petition:
    """Signatures from three countries, so that the page draws its charts and map."""
    start = datetime.now(UTC) - timedelta(days=2)
    for number, country in enumerate(["KR", "KR", "GB", "CA"]):
        make_signature(
            petition,
            f"signer{number}@example.org",
            name=f"Signer {number}",
            country=country,
            status=Signature.Status.CONFIRMED,
            verified_at=start + timedelta(hours=number),
        )
    counting.rebuild(petition)
    petition.refresh_from_db()
    return petition


def test_the_public_pages_work_under_the_policy(
    page: Page, violations, signed_petition, campaign, partner_site
):
    petition = signed_petition
    page.goto("/")
    expect(page.get_by_role("link", name=petition.title).first).to_be_visible()
    page.goto(campaign.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text(campaign.title)

    response = page.goto(petition.get_absolute_url())
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("svg.chart-map use")).to_have_count(4)  # the world and three countries
    expect(page.locator("svg.chart-timeline")).to_be_visible()
    bar = page.locator(".progress-bar")
    assert bar.evaluate("bar => getComputedStyle(bar).width") != "0px"  # its class, not a style
    # The live counter polls the count and redraws the bar, under the policy too.
    Petition.objects.filter(pk=petition.pk).update(signature_count=F("signature_count") + 46)
    expect(page.locator(".signature-count")).to_have_text("50", timeout=15_000)
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "50")
    # Bootstrap draws the country list's arrow as a data: image.
    assert "data:image/svg+xml" in page.locator("select").first.evaluate(
        "select => getComputedStyle(select).backgroundImage"
    )

    page.goto(reverse("petitions:thanks", args=[petition.slug]))
    expect(page.locator(".signature-count")).to_have_text("50")
    page.goto(reverse("petitions:embed", args=[petition.slug]))
    expect(page.locator(".embed-card")).to_be_visible()

    page.goto(partner_site)  # another site frames the card
    card = page.frame_locator("iframe[title=Petition]").locator(".embed-card")
    expect(card).to_be_visible(timeout=10_000)

    assert violations == []


def test_the_admin_works_under_the_policy(page: Page, violations, owner, signed_petition, campaign):
    petition = signed_petition
    log_in(page, "olivia", "correct horse battery")  # the second factor's pages included

    # The signature list: its actions (select all, choose, go) and the count-first page.
    response = page.goto(reverse("admin:petitions_signature_changelist"))
    assert "style-src 'self'" in response.headers["content-security-policy"]
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("4 of 4 selected")
    page.locator("select[name=action]").select_option("invalidate")
    page.get_by_role("button", name="Go", exact=True).click()
    expect(page.locator(".count-first-total")).to_have_text("4")

    # A new petition: the slug follows the title, an inline row is added, the date widgets.
    page.goto(reverse("admin:petitions_petition_add"))
    choose(page, "campaign", campaign.title)  # the autocomplete box (select2)
    page.locator("#id_title_en").press_sequentially("Free the Shenyang Ten")
    expect(page.locator("#id_slug")).to_have_value("free-the-shenyang-ten")
    demands = page.locator("#demands-group .form-row.dynamic-demands")
    count = demands.count()
    page.locator("#demands-group .add-row a", has_text="Add another Demand").click()
    expect(demands).to_have_count(count + 1)
    page.locator("#id_opens_at_0 ~ .datetimeshortcuts a", has_text="Today").click()
    expect(page.locator("#id_opens_at_0")).not_to_have_value("")
    page.locator("#id_opens_at_0 ~ .datetimeshortcuts .date-icon").click()
    expect(page.locator(".calendarbox:visible")).to_have_count(1)
    page.locator("#id_opens_at_1 ~ .datetimeshortcuts .clock-icon").click()
    expect(page.locator(".clockbox:visible")).to_have_count(1)

    # The petition's page with its charts and map, the present page, the dashboard.
    page.goto(reverse("admin:petitions_petition_change", args=[petition.pk]))
    expect(page.locator("svg.chart-map")).to_be_visible()
    page.goto(reverse("admin:petitions_petition_present", args=[petition.pk]))
    expect(page.get_by_label("Presented on")).to_be_visible()
    page.goto(reverse("admin:campaigns_campaign_dashboard", args=[campaign.pk]))
    expect(page.locator(".dashboard-charts svg.chart-timeline")).to_be_visible()

    assert violations == []
