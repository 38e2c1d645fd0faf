"""Staff passwords follow Django's validators: at least 12 characters, not a common password,
not all digits, not like the user's own name or address; on every form that sets one."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User

WEAK = ["a", "short words", "password1234", "123456789012345"]


def add_user(client, password: str):
    return client.post(
        "/admin/accounts/user/add/",
        {
            "username": "manuel-garcia",
            "usable_password": "true",
            "password1": password,
            "password2": password,
            "_save": "Save",
        },
    )


@pytest.mark.parametrize("password", [*WEAK, "manuel-garcia-1"])  # the last: like the name
def test_the_admin_refuses_a_weak_password_for_a_new_account(client, superuser, password):
    client.force_login(superuser)

    response = add_user(client, password)

    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors
    assert not User.objects.filter(username="manuel-garcia").exists()


def test_the_admin_takes_a_long_uncommon_password(client, superuser):
    client.force_login(superuser)

    assert add_user(client, "a tram in the fog at dawn").status_code == 302
    assert User.objects.get(username="manuel-garcia").check_password("a tram in the fog at dawn")


@pytest.mark.parametrize("password", [*WEAK, "manuel@example.org"])  # the last: the address
def test_the_admin_refuses_to_change_a_password_to_a_weak_one(client, superuser, manager, password):
    client.force_login(superuser)

    response = client.post(
        f"/admin/accounts/user/{manager.pk}/password/",
        {"password1": password, "password2": password, "usable_password": "true"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    manager.refresh_from_db()
    assert manager.check_password("correct horse battery")


def test_a_forgotten_password_cannot_be_reset_to_a_weak_one(client, manager):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(manager.pk))
    token = default_token_generator.make_token(manager)
    form_url = client.get(f"/admin/reset/{uid}/{token}/", follow=True).redirect_chain[-1][0]

    response = client.post(form_url, {"new_password1": "a", "new_password2": "a"})

    assert response.status_code == 200
    manager.refresh_from_db()
    assert manager.check_password("correct horse battery")


def test_the_policy_names_what_is_wrong(manager):
    with pytest.raises(ValidationError) as refused:
        validate_password("a", manager)

    assert "at least 12 characters" in str(refused.value)
