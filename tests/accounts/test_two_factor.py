"""The second factor: no member of staff sees anything in the admin, supporters' personal data
least of all, until they have typed a code from their authenticator app or a backup code."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, User
from petitions.models import Signature
from tests.conftest import make_signature

TWO_FACTOR = "/admin/two-factor/"
PASSWORD = "correct horse battery"


def code(device: TOTPDevice, offset: int = 0) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=offset):06d}"


def password_login(client, username: str) -> None:
    response = client.post(
        "/admin/login/", {"username": username, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302


@pytest.fixture
def signer(petition) -> Signature:
    return make_signature(
        petition, "hidden.signer@example.org", name="Hidden Signer",
        status=Signature.Status.CONFIRMED,
    )  # fmt: skip


STAFF_PAGES = [
    "/admin/",
    "/admin/petitions/signature/",
    "/admin/petitions/petition/",
    "/admin/accounts/auditevent/",
]


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_a_password_alone_shows_nothing_of_the_admin(client, request, petition, signer, who):
    user = request.getfixturevalue(who)
    client.force_login(user, second_factor=False)

    for url in [
        *STAFF_PAGES,
        reverse("admin:petitions_signature_change", args=[signer.pk]),
        reverse("admin:petitions_petition_change", args=[petition.pk]),
        reverse("admin:petitions_petition_export_csv", args=[petition.pk]),
        reverse("petitions:preview", args=[petition.slug]),
    ]:
        response = client.get(url, follow=True)
        page = response.content.decode()
        assert response.redirect_chain, url
        assert response.request["PATH_INFO"] in (TWO_FACTOR, "/admin/login/"), url
        assert "Hidden Signer" not in page and "hidden.signer" not in page, url
        assert petition.title not in page, url


def test_the_first_time_a_member_of_staff_sets_up_an_app(client, manager, petition, signer):
    password_login(client, "manuel")

    first = client.get("/admin/petitions/signature/", follow=True)
    page = first.content.decode()
    device = TOTPDevice.objects.get(user=manager)
    key = re.search(r'class="key">([A-Z2-7 ]+)<', page).group(1)

    assert first.request["PATH_INFO"] == TWO_FACTOR
    assert 'class="qr"' in page and "Scan this code" in page
    assert not device.confirmed and key.replace(" ", "") in device.config_url
    assert client.get(TWO_FACTOR).content.decode().count(key) == 1  # the same key on reload

    wrong = client.post(TWO_FACTOR, {"code": "000000", "next": "/admin/petitions/signature/"})
    assert "That code is not right" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302

    with time_machine.travel(timezone.now() + timedelta(seconds=2)):  # wrong codes slow it down
        done = client.post(
            TWO_FACTOR, {"code": code(device), "next": "/admin/petitions/signature/"}
        )
    codes = re.findall(r"<li>(\w+)</li>", done.content.decode())

    assert len(codes) == 10 and "Keep these backup codes" in done.content.decode()
    assert 'href="/admin/petitions/signature/"' in done.content.decode()
    assert TOTPDevice.objects.get(user=manager).confirmed
    assert "Hidden Signer" in client.get("/admin/petitions/signature/").content.decode()
    assert AuditEvent.objects.filter(actor=manager, action="two-factor set up").exists()


@pytest.fixture
def enrolled(manager) -> TOTPDevice:
    return TOTPDevice.objects.create(user=manager, name="authenticator app", confirmed=True)


def test_every_login_asks_for_a_code(client, manager, enrolled, signer):
    password_login(client, "manuel")
    asked = client.get("/admin/petitions/signature/", follow=True)
    assert asked.request["PATH_INFO"] == TWO_FACTOR
    assert "Type the six-digit code" in asked.content.decode()
    assert 'class="qr"' not in asked.content.decode()  # the key is never shown again

    assert "not right" in client.post(TWO_FACTOR, {"code": "123456"}).content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        verified = client.post(TWO_FACTOR, {"code": code(enrolled), "next": "/admin/petitions/"})

    assert verified.status_code == 302 and verified["Location"] == "/admin/petitions/"
    assert "Hidden Signer" in client.get("/admin/petitions/signature/").content.decode()
    events = AuditEvent.objects.filter(actor=manager).order_by("pk")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["logged in", "two-factor failed", "two-factor verified"]
    assert AuditEvent.objects.get(action="two-factor verified").detail == {
        "network": "127.0.0.0/24"
    }


def test_wrong_codes_slow_down_even_the_right_one(client, manager, enrolled):
    password_login(client, "manuel")
    client.post(TWO_FACTOR, {"code": "111111"})

    refused = client.post(TWO_FACTOR, {"code": code(enrolled)})  # straight after a wrong one

    assert "came too soon after a wrong one" in refused.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_backup_code_lets_one_in_once(client, manager, enrolled):
    from accounts.two_factor import backup_codes

    spare, *_ = backup_codes(manager)
    password_login(client, "manuel")
    assert client.post(TWO_FACTOR, {"code": spare}).status_code == 302
    assert client.get("/admin/").status_code == 200
    client.post("/admin/logout/")

    password_login(client, "manuel")
    again = client.post(TWO_FACTOR, {"code": spare})

    assert again.status_code == 200 and "not right" in again.content.decode()
    assert not StaticToken.objects.filter(token=spare).exists()


def test_one_who_stopped_at_the_second_factor_can_log_out(client, manager, enrolled):
    password_login(client, "manuel")

    client.post("/admin/logout/")

    assert "_auth_user_id" not in client.session
    assert client.get(TWO_FACTOR)["Location"].startswith("/admin/login/")


def test_the_code_page_sends_nobody_to_another_site(client, manager, enrolled):
    password_login(client, "manuel")

    answer = client.post(TWO_FACTOR, {"code": code(enrolled), "next": "https://evil.example/"})

    assert answer["Location"] == "/admin/"


def test_the_demo_admin_login_comes_with_its_second_factor(db, settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    printed = out.getvalue()
    password = re.search(r"password: (\S+)", printed).group(1)
    backup = re.search(r"backup codes: (\w+)", printed).group(1)
    key = re.search(r"authenticator key: ([A-Z2-7 ]+)", printed).group(1)
    admin = User.objects.get(username="admin")

    assert key.replace(" ", "") in TOTPDevice.objects.get(user=admin).config_url
    client.post("/admin/login/", {"username": "admin", "password": password})
    assert client.post(TWO_FACTOR, {"code": backup}).status_code == 302
    assert client.get("/admin/").status_code == 200

    out = StringIO()
    call_command("ensure_admin", stdout=out)  # make run again: the codes left, not the used one
    assert backup not in out.getvalue() and "backup codes:" in out.getvalue()


def test_a_superuser_resets_a_lost_second_factor(client, superuser, manager, enrolled):
    from accounts.two_factor import backup_codes

    backup_codes(manager)
    client.force_login(superuser)
    listing = client.get("/admin/accounts/user/").content.decode()
    assert "set up" in listing

    client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [manager.pk]},
    )

    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticToken.objects.filter(device__user=manager).exists()
    event = AuditEvent.objects.get(action="second factor reset")
    assert event.actor == superuser and event.target == "manuel"
    client.logout()
    password_login(client, "manuel")
    assert "Scan this code" in client.get(TWO_FACTOR).content.decode()  # a new one, next login


def test_members_of_staff_cannot_reset_anyones_second_factor(client, owner, manager, enrolled):
    client.force_login(owner)

    answer = client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [manager.pk]},
    )

    assert answer.status_code == 403
    assert TOTPDevice.objects.filter(user=manager).exists()
