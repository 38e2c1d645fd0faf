from __future__ import annotations

import pytest
from django.db import IntegrityError

from accounts.models import Membership


def test_a_person_has_one_role_per_organisation(owner, organisation):
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=owner, organisation=organisation, role="viewer")
