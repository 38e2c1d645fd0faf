"""Staff login: wrong passwords are rate-limited, logins are audited (with the network only),
and a forgotten password is reset by an email Celery sends."""

from __future__ import annotations

import re

from django.core import mail

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

    events = list(AuditEvent.objects.order_by("pk").values_list("action", "target", "detail"))
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
    networks = set(AuditEvent.objects.values_list("detail__network", flat=True))
    assert networks == {"203.0.113.0/24"}
