"""/api/openapi.json serves petitions/web/openapi.json, the file schemathesis checks the API
against (test_api_schema.py); the limits written in it are the ones the views apply."""

from __future__ import annotations

import json

import pytest

from petitions.web import api

URL = "/api/openapi.json"


@pytest.fixture
def description() -> dict:
    return json.loads(api.OPENAPI.read_text())


def test_the_served_description_is_the_file(client, db, description):
    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == description


def test_it_is_public_and_cacheable(client, db):
    response = client.get(URL)

    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=5, stale-while-revalidate=30"
    assert "Set-Cookie" not in response


def test_it_rejects_post(client, db):
    assert client.post(URL).status_code == 405


def test_it_describes_every_endpoint(description):
    assert description["openapi"].startswith("3.0.")
    assert set(description["paths"]) == {
        "/petitions.json",
        "/petitions/{slug}.json",
        "/petitions/{slug}/count.json",
    }


def test_its_limits_are_the_ones_the_list_applies(description):
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in description["paths"]["/petitions.json"]["get"]["parameters"]
    }
    petition = description["components"]["schemas"]["Petition"]["properties"]

    assert set(parameters) == api.LIST_PARAMETERS
    assert parameters["status"]["enum"] == petition["status"]["enum"] == api.LISTED_STATUSES
    assert parameters["page"]["maximum"] == api.MAX_PAGE
    assert parameters["page_size"]["maximum"] == api.MAX_PAGE_SIZE
