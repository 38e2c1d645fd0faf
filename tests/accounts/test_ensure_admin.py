from __future__ import annotations

import io

from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command

from accounts.models import User


def run(settings, tmp_path) -> str:
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_it_creates_a_superuser_and_prints_a_login_that_works(db, settings, tmp_path):
    output = run(settings, tmp_path)

    password = output.split("password: ")[1].split()[0]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(password)
    validate_password(password, admin)  # the staff password policy (settings)
    assert (tmp_path / "admin-password").stat().st_mode & 0o077 == 0


def test_running_it_again_changes_nothing_and_prints_the_same_login(db, settings, tmp_path):
    first = run(settings, tmp_path)
    second = run(settings, tmp_path)

    assert first == second
    assert User.objects.count() == 1


def test_a_changed_password_is_not_printed_wrongly(db, settings, tmp_path):
    run(settings, tmp_path)
    admin = User.objects.get(username="admin")
    admin.set_password("something else entirely")
    admin.save()

    again = run(settings, tmp_path)
    assert "unchanged" in again
    assert "backup codes" not in again  # the second factor is the account owner's now
