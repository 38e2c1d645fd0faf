"""Staff login: wrong passwords are rate-limited, for one username from one client and for one
username from everywhere; logins are audited (with the network only), and a forgotten password is
reset by an email Celery sends."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery"


def attempt(client, username: str, password: str, address: str = "203.0.113.9"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )  # fmt: skip


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(
    client, manager, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "manuel", "wrong").status_code == 200  # the form again
    assert attempt(client, "manuel", "wrong").status_code == 429  # the last one allowed

    locked = attempt(client, "manuel", PASSWORD)

    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address, or another person, is not locked out.
    assert attempt(client, "manuel", PASSWORD, address="198.51.100.4").status_code == 302


def test_a_success_resets_the_count(client, manager, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "manuel", "wrong")
    assert attempt(client, "manuel", PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "manuel", "wrong")
    assert attempt(client, "manuel", PASSWORD).status_code == 302


def test_logins_are_audited_with_the_network_not_the_address(client, manager):
    attempt(client, "manuel", "wrong")
    attempt(client, "manuel", PASSWORD)
    client.post("/admin/logout/", REMOTE_ADDR="203.0.113.9")

    events = list(
        AuditEvent.objects.exclude(action="role changed")
        .order_by("pk")
        .values_list("action", "target", "detail")
    )
    assert events == [
        ("login failed", "manuel", {"network": "203.0.113.0/24"}),
        ("logged in", "manuel", {"network": "203.0.113.0/24"}),
        ("logged out", "manuel", {"network": "203.0.113.0/24"}),
    ]
    assert "203.0.113.9" not in str(events)


def test_a_forgotten_password_is_reset_by_an_email_celery_sends(client, manager):
    page = client.get(LOGIN).content.decode()
    assert "/admin/password_reset/" in page  # the admin links it

    client.post("/admin/password_reset/", {"email": "manuel@example.org"})
    client.post("/admin/password_reset/", {"email": "nobody@example.org"})  # same answer, no mail

    assert [m.to for m in mail.outbox] == [["manuel@example.org"]]
    link = re.search(r"http://\S+/admin/reset/\S+/", mail.outbox[0].body).group(0)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    new = "a much longer passphrase 42"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password(new)


def test_wrong_passwords_from_addresses_across_one_ipv6_64_lock_it_out(client, manager, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "manuel", "wrong", address=f"2001:db8:5:6::{n + 1:x}")

    locked = attempt(client, "manuel", PASSWORD, address="2001:db8:5:6:ffff::1")

    assert locked.status_code == 429
    assert attempt(client, "manuel", PASSWORD, address="2001:db8:5:7::1").status_code == 302


def test_an_ipv4_mapped_address_is_locked_out_and_audited_as_ipv4(client, manager, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "manuel", "wrong", address="::ffff:203.0.113.9")

    assert attempt(client, "manuel", PASSWORD, address="203.0.113.9").status_code == 429
    networks = set(
        AuditEvent.objects.exclude(action="role changed").values_list("detail__network", flat=True)
    )
    assert networks == {"203.0.113.0/24"}


def fail_from_many_addresses(client, username: str, times: int) -> None:
    """Wrong passwords, each from an address of its own: axes' limit per client never trips."""
    for n in range(times):
        attempt(client, username, "wrong", address=f"198.51.{n // 250}.{n % 250 + 1}")


def test_failures_from_many_addresses_lock_the_username_for_a_short_while(
    client, manager, owner, settings
):
    fail_from_many_addresses(client, "manuel", settings.LOGIN_USERNAME_FAILURE_LIMIT)

    locked = attempt(client, "manuel", PASSWORD, address="192.0.2.1")
    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert attempt(client, "olivia", PASSWORD, address="192.0.2.1").status_code == 302  # others
    client.logout()
    later = timezone.now() + timedelta(minutes=settings.LOGIN_USERNAME_LOCKOUT_MINUTES)
    with time_machine.travel(later):
        assert attempt(client, "manuel", PASSWORD, address="192.0.2.1").status_code == 302


def test_the_lock_on_a_username_is_not_applied_from_a_network_its_user_signed_in_from(
    client, manager, settings
):
    assert attempt(client, "manuel", PASSWORD, address="203.0.113.9").status_code == 302
    client.logout()
    fail_from_many_addresses(client, "manuel", settings.LOGIN_USERNAME_FAILURE_LIMIT)

    assert attempt(client, "manuel", PASSWORD, address="192.0.2.1").status_code == 429
    assert attempt(client, "manuel", PASSWORD, address="203.0.113.77").status_code == 302
    client.logout()
    settings.LOGIN_KNOWN_NETWORK_DAYS = 0  # a sign-in long ago no longer counts
    assert attempt(client, "manuel", PASSWORD, address="203.0.113.77").status_code == 429


def test_a_username_below_its_limit_is_not_locked(client, manager, settings):
    fail_from_many_addresses(client, "manuel", settings.LOGIN_USERNAME_FAILURE_LIMIT - 1)

    assert attempt(client, "manuel", PASSWORD, address="192.0.2.1").status_code == 302


def test_retrying_during_a_lockout_does_not_lengthen_it(client, manager, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "manuel", "wrong")
    locked_at = timezone.now()
    with time_machine.travel(locked_at + settings.AXES_COOLOFF_TIME * 2 / 3):
        assert attempt(client, "manuel", PASSWORD).status_code == 429

    with time_machine.travel(locked_at + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)):
        assert attempt(client, "manuel", PASSWORD).status_code == 302


def test_with_the_broker_down_the_reset_page_answers_the_same_and_logs_no_address(
    client, manager, broker_down, caplog
):
    response = client.post("/admin/password_reset/", {"email": "manuel@example.org"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/password_reset/done/"
    assert not mail.outbox
    assert "the Celery broker cannot be reached" in caplog.text
    assert "manuel" not in caplog.text
