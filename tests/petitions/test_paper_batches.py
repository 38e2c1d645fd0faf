"""Signatures collected on paper: recorded in batches, summed into the petition's paper count,
and added to the public count (online + paper)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from petitions.admin.petitions import PetitionAdmin
from petitions.models import PaperBatch, Petition, Signature
from petitions.services import counting, paper, signing
from tests.conftest import a_moment_later, make_petition, make_signature


class FormFields(HTMLParser):
    """The values a browser would submit from the admin change form (no submit buttons, no
    empty-form templates)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = attrs.get("type", "text")
            if kind == "submit" or (kind == "checkbox" and "checked" not in attrs):
                return
            self.data[name] = attrs.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select" and name and "__prefix__" not in name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name and "__prefix__" not in name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            # The admin starts a textarea's content with a newline that browsers drop.
            self.data[self._textarea] += data.removeprefix("\n")


def change_url(petition: Petition) -> str:
    return reverse("admin:petitions_petition_change", args=[petition.pk])


def change_form(client, petition: Petition) -> dict[str, str]:
    page = client.get(change_url(petition))
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.content.decode())
    return parser.data


def with_new_batches(data: dict[str, str], *batches: dict[str, object]) -> dict[str, object]:
    """The change form's data with new paper batches added after the existing ones."""
    existing = int(data["paper_batches-TOTAL_FORMS"])
    changed: dict[str, object] = dict(data)
    for offset, batch in enumerate(batches):
        for field, value in batch.items():
            changed[f"paper_batches-{existing + offset}-{field}"] = value
    changed["paper_batches-TOTAL_FORMS"] = existing + len(batches)
    return changed


def vigil(count: object = 40) -> dict[str, object]:
    return {"count": count, "received_on": "2025-05-01", "location": "Vigil, London", "note": ""}


def public_count(client, petition: Petition) -> tuple[int, int, int]:
    data = client.get(reverse("petitions:detail_json", args=[petition.slug])).json()
    return (
        data["signature_count"],
        data["online_signature_count"],
        data["paper_signature_count"],
    )


@pytest.fixture
def counted_petition(petition) -> Petition:
    """Two confirmed online signatures, counted."""
    for email in ("a@example.org", "b@example.org"):
        make_signature(
            petition,
            email=email,
            status=Signature.Status.CONFIRMED,
            verified_at=datetime(2025, 3, 1, tzinfo=UTC),
        )
    counting.rebuild(petition)
    petition.refresh_from_db()
    return petition


# record_paper_batch and update_paper_count ---------------------------------------------------


def test_recording_a_batch_adds_it_to_the_paper_count(counted_petition, owner, organisation):
    batch = paper.record_paper_batch(
        counted_petition,
        count=40,
        received_on=date(2025, 5, 1),
        location="Vigil, London",
        note="Sheets 1-4",
        user=owner,
    )

    assert counted_petition.paper_count == 40
    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 40
    assert counted_petition.total_count == 42
    assert (batch.count, batch.location, batch.note, batch.recorded_by) == (
        40,
        "Vigil, London",
        "Sheets 1-4",
        owner,
    )
    event = AuditEvent.objects.get(action="paper batch recorded")
    assert (event.actor, event.organisation) == (owner, organisation)
    assert event.detail == {"count": 40, "location": "Vigil, London", "paper_count": 40}


def test_batches_add_up(counted_petition, owner):
    for count, place in [(40, "Vigil, London"), (25, "Stall, Leeds"), (1, "By post")]:
        paper.record_paper_batch(
            counted_petition, count=count, received_on=date(2025, 5, 1), location=place, user=owner
        )

    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 66
    assert counted_petition.signature_count == 2
    assert counted_petition.total_count == 68


def test_deleting_a_batch_lowers_the_paper_count(counted_petition, owner):
    kept = paper.record_paper_batch(
        counted_petition, count=40, received_on=date(2025, 5, 1), location="Vigil", user=owner
    )
    removed = paper.record_paper_batch(
        counted_petition, count=25, received_on=date(2025, 5, 2), location="Stall", user=owner
    )

    removed.delete()  # as from the shell

    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 40
    event = AuditEvent.objects.get(action="paper batch removed")
    assert (event.actor, event.detail) == (
        None,
        {"count": 25, "location": "Stall", "paper_count": 40},
    )
    kept.delete()
    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 0


def test_a_drifted_paper_count_is_set_right_again(counted_petition, owner):
    paper.record_paper_batch(
        counted_petition, count=40, received_on=date(2025, 5, 1), location="Vigil", user=owner
    )
    Petition.objects.filter(pk=counted_petition.pk).update(paper_count=7)

    assert paper.update_paper_count(counted_petition) == 40
    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 40


def test_the_paper_count_of_one_petition_leaves_others_alone(counted_petition, campaign, owner):
    other = make_petition(campaign, "other-petition")
    paper.record_paper_batch(
        counted_petition, count=40, received_on=date(2025, 5, 1), location="Vigil", user=owner
    )

    other.refresh_from_db()
    assert other.paper_count == 0


def test_the_public_page_and_json_show_online_plus_paper(client, counted_petition, owner):
    paper.record_paper_batch(
        counted_petition, count=1040, received_on=date(2025, 5, 1), location="March", user=owner
    )

    page = client.get(reverse("petitions:detail", args=[counted_petition.slug])).content.decode()

    assert '<strong class="signature-count fs-4">1,042</strong>' in page
    assert "2 online and 1,040 on paper" in page
    assert public_count(client, counted_petition) == (1042, 2, 1040)


def test_without_paper_signatures_the_page_does_not_mention_paper(client, counted_petition):
    page = client.get(reverse("petitions:detail", args=[counted_petition.slug])).content.decode()

    assert "on paper</p>" not in page
    assert public_count(client, counted_petition) == (2, 2, 0)


# The admin inline ----------------------------------------------------------------------------


def test_the_change_form_has_a_paper_batch_inline(client, superuser, counted_petition):
    client.force_login(superuser)

    data = change_form(client, counted_petition)

    assert data["paper_batches-TOTAL_FORMS"] == "0"
    assert data["paper_batches-INITIAL_FORMS"] == "0"


def test_batches_added_in_the_admin_update_the_count(client, superuser, counted_petition):
    client.force_login(superuser)
    data = with_new_batches(
        change_form(client, counted_petition),
        vigil(40),
        {"count": 25, "received_on": "2025-05-02", "location": "Stall, Leeds", "note": "x"},
    )

    response = client.post(change_url(counted_petition), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 65
    assert sorted(counted_petition.paper_batches.values_list("count", flat=True)) == [25, 40]
    assert set(PaperBatch.objects.values_list("recorded_by", flat=True)) == {superuser.pk}
    assert public_count(client, counted_petition) == (67, 2, 65)
    events = AuditEvent.objects.filter(action="paper batch recorded").order_by("pk")
    assert [(event.actor, event.detail["count"]) for event in events] == [
        (superuser, 40),
        (superuser, 25),
    ]
    assert events.last().detail["paper_count"] == 65


def test_a_batch_deleted_in_the_admin_lowers_the_count(client, superuser, counted_petition):
    for count, place in [(40, "Vigil"), (25, "Stall")]:
        paper.record_paper_batch(
            counted_petition, count=count, received_on=date(2025, 5, 1), location=place
        )
    client.force_login(superuser)
    data = change_form(client, counted_petition)
    assert data["paper_batches-INITIAL_FORMS"] == "2"
    stall = PaperBatch.objects.get(location="Stall")
    index = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith("paper_batches-") and key.endswith("-id") and value == str(stall.pk)
    )
    data[f"paper_batches-{index}-DELETE"] = "on"

    response = client.post(change_url(counted_petition), data)

    assert response.status_code == 302
    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 40
    assert not PaperBatch.objects.filter(pk=stall.pk).exists()
    assert public_count(client, counted_petition) == (42, 2, 40)


def test_a_batch_changed_in_the_admin_changes_the_count(client, superuser, counted_petition):
    batch = paper.record_paper_batch(
        counted_petition, count=40, received_on=date(2025, 5, 1), location="Vigil"
    )
    client.force_login(superuser)
    data = change_form(client, counted_petition)
    index = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith("paper_batches-") and key.endswith("-id") and value == str(batch.pk)
    )
    data[f"paper_batches-{index}-count"] = "45"

    assert client.post(change_url(counted_petition), data).status_code == 302

    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 45


@pytest.mark.parametrize("count", [0, -5, "", "many"])
def test_a_batch_must_count_at_least_one(client, superuser, counted_petition, count):
    client.force_login(superuser)
    data = with_new_batches(change_form(client, counted_petition), vigil(count))

    response = client.post(change_url(counted_petition), data)

    assert response.status_code == 200
    batch_errors = response.context["inline_admin_formsets"][1].formset.errors
    assert batch_errors[0]["count"]
    assert not PaperBatch.objects.exists()
    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 0


def test_saving_the_change_form_keeps_a_confirmation_counted_meanwhile(
    client, superuser, counted_petition, monkeypatch
):
    """The change form loads the petition, then saves every field of it, signature_count
    included. A confirmation counted in between (confirm() adds 1 with an UPDATE … F()) is
    overwritten by the stale value: the signature is confirmed but no longer counted."""
    pending = make_signature(counted_petition, email="late@example.org")
    client.force_login(superuser)
    data = with_new_batches(change_form(client, counted_petition), vigil(40))
    save_model = PetitionAdmin.save_model

    def confirm_meanwhile(self, request, obj, form, change):
        assert signing.confirm(pending) == signing.Confirmation.CONFIRMED
        save_model(self, request, obj, form, change)

    monkeypatch.setattr(PetitionAdmin, "save_model", confirm_meanwhile)

    assert client.post(change_url(counted_petition), data).status_code == 302

    a_moment_later()
    counted_petition.refresh_from_db()
    assert counted_petition.paper_count == 40
    assert counted_petition.signatures.filter(status=Signature.Status.CONFIRMED).count() == 3
    assert counted_petition.signature_count == 3
