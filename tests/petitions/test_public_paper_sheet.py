"""The blank paper sheet anyone may print to collect signatures, while the petition is open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_petition


def sheet_url(petition) -> str:
    return reverse("petitions:paper_sheet", args=[petition.slug])


def test_it_serves_the_sheet_of_an_open_petition_as_a_pdf(client, petition):
    response = client.get(sheet_url(petition))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("inline;")


@pytest.mark.parametrize("which", ["closed_petition", "draft_petition"])
def test_it_has_no_sheet_for_a_closed_or_draft_petition(client, request, which):
    petition = request.getfixturevalue(which)

    response = client.get(sheet_url(petition))

    assert response.status_code == 404


def test_it_has_no_sheet_once_the_closing_time_has_passed(client, campaign):
    petition = make_petition(
        campaign, "past-closing", closes_at=timezone.now() - timedelta(minutes=1)
    )

    response = client.get(sheet_url(petition))

    assert response.status_code == 404


def test_it_refuses_a_post(client, petition):
    response = client.post(sheet_url(petition))

    assert response.status_code == 405
    assert "GET" in response["Allow"]
