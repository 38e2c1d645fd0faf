"""A member of staff logs in to the admin in a real browser and downloads the presentation PDF."""

from __future__ import annotations

import subprocess
from base64 import b32decode
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accounts.models import User
from petitions.documents import fonts
from petitions.models import Petition, Signature
from tests.conftest import make_signature

pytestmark = pytest.mark.browser

USERNAME = "stella"
PASSWORD = "a long and known test password"
SIGNER = "Zoë Müller"
EMAIL = "secret.signer@example.org"


def log_in(page: Page, username: str, password: str) -> None:
    """The password, then the second factor: the first time, set up an "app" from the key the
    page shows (as a phone that cannot scan would), and keep the backup codes."""
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/two-factor/**")
    key = page.locator(".key")
    if key.count():
        secret = key.inner_text().replace(" ", "")
        page.get_by_role("textbox", name="Code").fill(
            f"{totp(b32decode(secret + '=' * (-len(secret) % 8))):06d}"
        )
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_text("Keep these backup codes")).to_be_visible()
        page.get_by_role("link", name="I have kept them; continue").click()
    else:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.get_by_role("textbox", name="Code").fill(f"{totp(device.bin_key):06d}")
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/admin/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_superuser_downloads_the_presentation_pdf_from_the_petition_page(
    page: Page, petition: Petition, tmp_path: Path
) -> None:
    User.objects.create_superuser(USERNAME, "stella@example.org", PASSWORD)
    make_signature(
        petition,
        EMAIL,
        name=SIGNER,
        country="DE",
        city="Köln",
        status=Signature.Status.CONFIRMED,
        verified_at=timezone.now() - timedelta(hours=1),
    )

    fonts.static_fonts()  # built before the site serves, as `make serve` does: not in the click
    log_in(page, USERNAME, PASSWORD)
    page.goto(reverse("admin:petitions_petition_change", args=[petition.pk]))
    expect(page.get_by_role("heading", level=2, name=petition.title)).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Presentation PDF").click()
    download = info.value

    assert download.suggested_filename == f"{petition.slug}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert SIGNER in text
    assert "Köln" in text
    assert EMAIL not in text and "@" not in text
