"""The API answers as its OpenAPI description (petitions/web/openapi.json) says, for generated
requests (schemathesis). test_api_openapi.py checks that /api/openapi.json serves that file."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from config.wsgi import application
from petitions.web.api import OPENAPI

schema = schemathesis.openapi.from_path(OPENAPI)


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
    case.call_and_validate(app=application)
