"""The API answers as its OpenAPI description says, for generated requests (schemathesis)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def published(petition, closed_petition):
    """A few public petitions for the generated requests to find (and many slugs that miss)."""
    return [petition, closed_petition]


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,  # the same requests every run: CI does not flake on a new find
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.django_db(transaction=True)
def test_the_api_matches_its_description(case, published):
    case.call_and_validate()
