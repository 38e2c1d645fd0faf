from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError

from accounts.models import Membership


def test_the_user_model_is_our_own():
    assert settings.AUTH_USER_MODEL == "accounts.User"


def test_a_person_has_one_role_per_organisation(owner, organisation):
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=owner, organisation=organisation, role="viewer")


def test_roles_are_owner_manager_and_viewer():
    assert set(Membership.Role.values) == {"owner", "manager", "viewer"}
