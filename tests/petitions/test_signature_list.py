"""The staff's signature list as a petition grows: capped counts, capped pages, sorting by when
signed, filter choices from the petitions, scoping by petition ids, and searches that each go
to an index (bench/staff_pages.py times them at a million signatures)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from petitions.admin.paging import CappedPaginator
from petitions.admin.signatures import SignatureAdmin
from petitions.models import Signature
from tests.conftest import make_petition, make_signature, with_a_crowd

CHANGELIST = reverse("admin:petitions_signature_changelist")


@pytest.fixture
def small_pages(monkeypatch):
    """Counted exactly up to 6, two rows a page: the cap at a million, in miniature."""
    monkeypatch.setattr(CappedPaginator, "CAP", 6)
    monkeypatch.setattr(SignatureAdmin, "list_per_page", 2)


def signed(petition, n: int) -> list[Signature]:
    """n signatures, the last one signed most recently."""
    start = timezone.now() - timedelta(hours=n)
    return [
        make_signature(
            petition, f"s{i}@example.org", name=f"Signer {i}", created_at=start + timedelta(hours=i)
        )
        for i in range(n)
    ]


def names_on(page: str) -> list[str]:
    return re.findall(r">(Signer [^<]+)<", page)


# Counting and paging --------------------------------------------------------------------------


def test_the_list_counts_exactly_up_to_its_cap(client, owner, petition, small_pages):
    signed(petition, 6)
    client.force_login(owner)

    page = client.get(CHANGELIST).content.decode()

    assert "6 signatures" in page
    assert "About" not in page


def test_beyond_its_cap_the_list_says_about_how_many_and_pages_as_deep_as_the_cap(
    client, owner, petition, small_pages
):
    signed(petition, 8)
    client.force_login(owner)

    page = client.get(CHANGELIST).content.decode()

    # SQLite has no planner's estimate: the count beyond the cap is exact there.
    expected = "8" if connection.vendor != "postgresql" else ""
    assert f"About {expected}" in page
    assert "The first 6 are listed page by page" in page
    assert "?p=3" in page and "?p=4" not in page  # 6 rows, 2 a page
    assert "Select all of them (about" in page  # not "Select all 8 signatures"
    searched = client.get(CHANGELIST, {"q": "Signer"}).content.decode()
    assert f"About {expected}" in searched and " results" in searched


def test_a_page_past_the_last_listed_shows_the_last_one(client, owner, petition, small_pages):
    signatures = signed(petition, 8)
    client.force_login(owner)

    response = client.get(CHANGELIST, {"p": "400"})

    page = response.content.decode()
    assert response.status_code == 200
    assert '<span class="this-page">3</span>' in page
    assert names_on(page) == ["Signer 3", "Signer 2"]  # the 5th and 6th newest: to the cap
    assert len(signatures) == 8


@pytest.mark.parametrize("number", ["0", "-3", "two", "99999999999999999999"])
def test_any_page_number_shows_a_page(client, owner, petition, small_pages, number):
    signed(petition, 3)
    client.force_login(owner)

    response = client.get(CHANGELIST, {"p": number})

    assert response.status_code == 200
    assert "Signer" in response.content.decode()


def test_the_list_sorts_only_by_when_signed_even_when_a_url_asks_otherwise(client, owner, petition):
    make_signature(petition, "a@example.org", name="Signer Aaron", created_at=timezone.now())
    make_signature(
        petition, "z@example.org", name="Signer Zed", created_at=timezone.now() - timedelta(days=1)
    )
    client.force_login(owner)

    by_name = client.get(CHANGELIST, {"o": "1"}).content.decode()  # the name column
    oldest_first = client.get(CHANGELIST, {"o": "8"}).content.decode()  # the created_at column

    assert names_on(by_name) == ["Signer Aaron", "Signer Zed"]  # newest first, as ever
    assert names_on(oldest_first) == ["Signer Zed", "Signer Aaron"]
    assert 'class="sortable column-created_at' in by_name
    assert 'class="sortable column-name' not in by_name


# Filter choices and scoping -------------------------------------------------------------------


def test_the_petition_filter_offers_the_users_petitions_from_the_petitions(
    client, owner, petition, campaign, other_organisation
):
    make_signature(petition)
    make_petition(campaign, "no-signatures-yet", title_en="Not signed yet")
    theirs = make_petition(
        other_organisation.campaigns.create(title_en="Theirs", slug="theirs"),
        "their-petition",
        title_en="Their petition",
    )
    make_signature(theirs, "t@example.org")
    client.force_login(owner)

    page = client.get(CHANGELIST).content.decode()

    assert "Not signed yet" in page  # a petition with no signatures can be chosen too
    assert "Their petition" not in page
    chosen = client.get(CHANGELIST, {"petition__id__exact": theirs.pk})
    assert chosen.status_code == 200 and "t@example.org" not in chosen.content.decode()


def test_signatures_are_scoped_by_petition_ids_not_by_a_join(owner, petition):
    owner.is_verified = lambda: True  # as after the second factor (accounts/roles.py)

    query = str(Signature.objects.where_role(owner, roles.READ).query)

    assert f'"petition_id" IN ({petition.pk})' in query
    assert "JOIN" not in query


def test_a_user_without_a_role_gets_no_signatures_through_the_queryset(outsider, petition):
    make_signature(petition)
    outsider.is_verified = lambda: True

    assert not Signature.objects.where_role(outsider, roles.READ).exists()


# Search -------------------------------------------------------------------------------------


@pytest.fixture
def signers(petition):
    return {
        "gmail": make_signature(petition, "Min.Ji+petition@gmail.com", name="Kim Min-ji"),
        "longer": make_signature(petition, "xmin-ji@example.org", name="Lee Min"),
        "network": make_signature(
            petition, "ivan@example.org", name="Иван Петров", ip_network="203.0.113.0/24"
        ),
        "percent": make_signature(petition, "p@example.org", name="Zhang 100%"),
    }


def found(client, search: str) -> set[str]:
    page = client.get(CHANGELIST, {"q": search}).content.decode()
    names = {"Kim Min-ji", "Lee Min", "Иван Петров", "Zhang 100%"}
    return {name for name in names if f">{name}<" in page}


def test_a_whole_address_finds_its_signer_by_the_canonical_form(client, manager, signers):
    client.force_login(manager)

    assert found(client, "minji@googlemail.com") == {"Kim Min-ji"}
    assert found(client, "MIN.JI+other@GMAIL.COM") == {"Kim Min-ji"}
    assert found(client, "min-ji@example.org") == set()  # not inside a longer address


def test_part_of_an_address_or_the_start_of_a_network_finds_signers(client, manager, signers):
    client.force_login(manager)

    assert found(client, "@example.org") == {"Lee Min", "Иван Петров", "Zhang 100%"}
    assert found(client, "gmail") == {"Kim Min-ji"}
    assert found(client, "203.0.113.") == {"Иван Петров"}
    assert found(client, "113.0") == set()  # a network is found by its start


def test_every_word_must_match_and_quotes_keep_words_together(client, manager, signers):
    client.force_login(manager)

    assert found(client, "min kim") == {"Kim Min-ji"}
    assert found(client, '"min kim"') == set()
    assert found(client, '"Kim Min"') == {"Kim Min-ji"}
    assert found(client, "Иван") == {"Иван Петров"}
    assert found(client, "100%") == {"Zhang 100%"}  # % is a character, not a wildcard
    assert found(client, "%") == {"Zhang 100%"}
    assert found(client, '"') == {"Kim Min-ji", "Lee Min", "Иван Петров", "Zhang 100%"}


def test_a_viewer_finds_by_name_but_never_by_address_or_network(client, viewer, signers):
    client.force_login(viewer)

    assert found(client, "Min") == {"Kim Min-ji", "Lee Min"}
    assert found(client, "minji@gmail.com") == set()
    assert found(client, "@example.org") == set()
    assert found(client, "203.0.113.") == set()


def test_the_search_reads_addresses_only_on_the_petitions_given(signers, petition):
    assert not Signature.objects.matching("minji@gmail.com", addresses_in=[])
    assert not Signature.objects.matching("minji@gmail.com", addresses_in=[petition.pk + 1])
    assert Signature.objects.matching("minji@gmail.com", addresses_in=[petition.pk]).count() == 1
    assert Signature.objects.matching("minji@gmail.com", addresses_in=None).count() == 1


# On PostgreSQL, each kind of search goes to an index --------------------------------------------


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: make it choose
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plan")
@pytest.mark.parametrize(
    "search,index",
    [
        ("Kim", "signature_search_trgm"),
        ("김민지", "signature_search_trgm"),
        ("@example.org", "signature_search_trgm"),
        ("203.0.113.", "signature_search_trgm"),
        ("minji@gmail.com", "one_signature_per_address"),
    ],
)
def test_each_search_goes_to_an_index(signers, petition, search, index):
    with_a_crowd(petition)
    queryset = Signature.objects.matching(search, addresses_in=[petition.pk]).order_by()

    assert index in plan(queryset)
