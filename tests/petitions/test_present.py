"""Presenting a petition: signing closes for good, and the document handed over is built, stored
and sealed with its SHA-256, which the public page and the JSON show."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from petitions.documents import pdf
from petitions.models import Petition, Presentation, Signature
from petitions.services import counting, paper, presenting, signing
from petitions.tokens import make_token
from tests.conftest import SIGN_DATA, make_petition, make_signature, on_commit_runs

# Presenting closes signing now, so the presentation is dated today (presenting._check_date).
TODAY = timezone.localdate()
PRESENTED = {
    "presented_on": TODAY,
    "place": "the Chinese Embassy, London",
    "recipient": "the Ambassador",
    "presented_by": "Olivia Owen",
}
FORM_DATA = {**PRESENTED, "presented_on": TODAY.isoformat()}


# Presentation documents and exports are written under a temporary PRIVATE_MEDIA_ROOT.
pytestmark = pytest.mark.usefixtures("private_media")


@pytest.fixture
def signed_petition(petition, owner) -> Petition:
    """Two confirmed online signatures, one pending, and five on paper."""
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for minutes, (name, email) in enumerate(
        [("김민지", "min-ji@example.org"), ("محمد العلي", "ali@example.org")]
    ):
        make_signature(
            petition,
            email=email,
            name=name,
            status=Signature.Status.CONFIRMED,
            verified_at=start + timedelta(minutes=minutes),
        )
    make_signature(petition, email="pending@example.org", name="Pending Person")
    counting.rebuild(petition)
    petition.refresh_from_db()
    paper.record_paper_batch(
        petition, count=5, received_on=date(2025, 5, 1), location="Vigil, London", user=owner
    )
    return petition


def present(petition: Petition, user: User | None = None) -> Presentation:
    with on_commit_runs():
        presentation = presenting.present_petition(petition, user=user, **PRESENTED)
    presentation.refresh_from_db()
    return presentation


# present_petition ----------------------------------------------------------------------------


def test_presenting_closes_signing(signed_petition, owner):
    before = timezone.now()

    present(signed_petition, owner)

    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.PRESENTED
    assert signed_petition.is_accepting_signatures is False
    assert before <= signed_petition.closes_at <= timezone.now()


def test_presenting_keeps_an_earlier_closing_time(campaign, owner):
    closed_at = timezone.now() - timedelta(days=2)
    petition = make_petition(
        campaign, "closed-earlier", opens_at=closed_at - timedelta(days=5), closes_at=closed_at
    )

    present(petition, owner)

    petition.refresh_from_db()
    assert petition.closes_at == closed_at


def test_the_public_sign_form_is_refused_after_presenting(client, signed_petition, owner):
    present(signed_petition, owner)

    response = client.post(
        reverse("petitions:sign", args=[signed_petition.slug]),
        {**SIGN_DATA, "email": "late@example.org"},
    )

    assert response.status_code == 409
    assert "has been presented" in response.content.decode()
    assert not Signature.objects.filter(email="late@example.org").exists()


def test_the_presentation_document_is_built_and_sealed(signed_petition, owner, private_media):
    presentation = present(signed_petition, owner)

    assert presentation.status == Presentation.Status.READY, presentation.error
    assert presentation.completed_at is not None
    assert presentation.error == ""
    stored = private_media / presentation.document.name
    data = stored.read_bytes()
    assert data.startswith(b"%PDF")
    assert presentation.sha256 == hashlib.sha256(data).hexdigest()
    with presentation.document.open("rb") as document:
        assert hashlib.sha256(document.read()).hexdigest() == presentation.sha256
    assert (presentation.online_count, presentation.paper_count, presentation.total_count) == (
        2,
        5,
        7,
    )
    assert (presentation.place, presentation.recipient, presentation.presented_by) == (
        "the Chinese Embassy, London",
        "the Ambassador",
        "Olivia Owen",
    )
    assert presentation.presented_on == TODAY
    assert presentation.created_by == owner


def test_the_same_presentation_gives_the_same_document(signed_petition, owner, tmp_path):
    presentation = present(signed_petition, owner)

    again, digest = pdf.presentation_pdf(signed_petition, tmp_path / "again.pdf", presentation)

    assert again == 2
    assert digest == presentation.sha256


def test_presenting_is_audited(signed_petition, owner, organisation):
    presentation = present(signed_petition, owner)

    event = AuditEvent.objects.get(action="petition presented")
    assert (event.actor, event.organisation, event.target) == (
        owner,
        organisation,
        str(signed_petition),
    )
    assert event.detail == {
        "presentation": presentation.pk,
        "place": "the Chinese Embassy, London",
        "recipient": "the Ambassador",
        "total": 7,
    }


def test_until_the_document_is_built_the_presentation_is_building(signed_petition, owner):
    presentation = presenting.present_petition(signed_petition, user=owner, **PRESENTED)

    presentation.refresh_from_db()
    assert presentation.status == Presentation.Status.BUILDING
    assert presentation.sha256 == ""


def test_presenting_twice_raises_already_presented(signed_petition, owner):
    present(signed_petition, owner)

    with pytest.raises(presenting.AlreadyPresented):
        presenting.present_petition(signed_petition, user=owner, **PRESENTED)

    assert Presentation.objects.count() == 1


def test_a_pending_signature_is_not_counted_after_presenting(signed_petition, owner):
    pending = Signature.objects.get(email="pending@example.org")
    present(signed_petition, owner)

    outcome = signing.confirm(pending)

    assert outcome == signing.Confirmation.PETITION_CLOSED
    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING
    assert pending.verified_at is None
    signed_petition.refresh_from_db()
    assert signed_petition.signature_count == 2


def test_the_confirmation_link_is_refused_after_presenting(client, signed_petition, owner):
    pending = Signature.objects.get(email="pending@example.org")
    present(signed_petition, owner)

    response = client.post(
        reverse("petitions:confirm", args=[pending.uuid, make_token(pending.uuid)])
    )

    assert response.status_code == 409
    signed_petition.refresh_from_db()
    assert signed_petition.signature_count == 2


# The public page and the JSON ----------------------------------------------------------------


def test_the_public_page_shows_the_presentation(client, signed_petition, owner):
    presentation = present(signed_petition, owner)

    page = client.get(reverse("petitions:detail", args=[signed_petition.slug])).content.decode()

    assert "Presented" in page
    assert f"{TODAY.day} {TODAY:%B %Y}" in page
    assert "the Chinese Embassy, London" in page
    assert "the Ambassador" in page
    assert "with 7 signatures" in page
    assert presentation.sha256 in page
    assert "has been presented and no longer takes signatures" in page
    assert 'name="email"' not in page


def test_the_page_says_nothing_of_a_document_still_building(client, signed_petition, owner):
    presenting.present_petition(signed_petition, user=owner, **PRESENTED)

    page = client.get(reverse("petitions:detail", args=[signed_petition.slug])).content.decode()

    assert "presentation-sha256" not in page
    assert "has been presented and no longer takes signatures" in page


def test_the_json_shows_the_presentation(client, signed_petition, owner):
    presentation = present(signed_petition, owner)

    data = client.get(reverse("petitions:detail_json", args=[signed_petition.slug])).json()

    assert data["status"] == "presented"
    assert data["accepting_signatures"] is False
    assert (
        data["signature_count"],
        data["online_signature_count"],
        data["paper_signature_count"],
    ) == (7, 2, 5)
    assert data["presented"] == {
        "on": TODAY.isoformat(),
        "place": "the Chinese Embassy, London",
        "recipient": "the Ambassador",
        "signature_count": 7,
        "document_sha256": presentation.sha256,
    }


def test_the_json_of_an_open_petition_has_no_presentation(client, signed_petition):
    data = client.get(reverse("petitions:detail_json", args=[signed_petition.slug])).json()

    assert data["presented"] is None
    assert data["accepting_signatures"] is True


# The admin "present" view --------------------------------------------------------------------


def present_url(petition: Petition) -> str:
    return reverse("admin:petitions_petition_present", args=[petition.pk])


def test_the_present_view_shows_a_form_with_the_counts(client, owner, signed_petition):
    client.force_login(owner)

    response = client.get(present_url(signed_petition))

    page = response.content.decode()
    assert response.status_code == 200
    for field in ("presented_on", "place", "recipient", "presented_by"):
        assert f'name="{field}"' in page
    assert "2 confirmed online signatures" in page
    assert "5 on paper (7 in all)" in page
    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.OPEN


@pytest.mark.parametrize("member", ["owner", "manager"])
def test_owners_and_managers_present_a_petition(client, request, signed_petition, member):
    user = request.getfixturevalue(member)
    client.force_login(user)

    with on_commit_runs():
        response = client.post(present_url(signed_petition), FORM_DATA)

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:petitions_petition_change", args=[signed_petition.pk]
    )
    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.PRESENTED
    presentation = Presentation.objects.get()
    assert presentation.created_by == user
    assert presentation.status == Presentation.Status.READY
    assert presentation.total_count == 7
    assert AuditEvent.objects.get(action="petition presented").actor == user


def test_a_viewer_may_not_present(client, viewer, signed_petition):
    client.force_login(viewer)

    assert client.get(present_url(signed_petition)).status_code == 403
    assert client.post(present_url(signed_petition), FORM_DATA).status_code == 403

    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.OPEN
    assert not Presentation.objects.exists()


def test_an_outsider_gets_404_from_the_present_view(client, outsider, signed_petition):
    client.force_login(outsider)

    assert client.get(present_url(signed_petition)).status_code == 404
    assert client.post(present_url(signed_petition), FORM_DATA).status_code == 404

    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.OPEN
    assert not Presentation.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [{"place": ""}, {"recipient": "   "}, {"presented_on": "not a date"}, {"presented_by": ""}],
)
def test_bad_input_shows_the_form_again_and_changes_nothing(client, owner, signed_petition, bad):
    client.force_login(owner)

    with on_commit_runs():
        response = client.post(present_url(signed_petition), {**FORM_DATA, **bad})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert "errorlist" in response.content.decode()
    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.OPEN
    assert not Presentation.objects.exists()
    assert not AuditEvent.objects.filter(action="petition presented").exists()


def test_a_presented_petition_cannot_be_presented_again_from_the_admin(
    client, owner, signed_petition
):
    present(signed_petition, owner)
    client.force_login(owner)

    response = client.post(present_url(signed_petition), {**FORM_DATA, "place": "Elsewhere"})

    assert response.status_code == 302
    assert Presentation.objects.count() == 1
    assert Presentation.objects.get().place == "the Chinese Embassy, London"


def test_the_presentation_document_is_downloaded_and_audited(client, manager, signed_petition):
    presentation = present(signed_petition, manager)
    client.force_login(manager)

    response = client.get(reverse("admin:petitions_presentation_document", args=[presentation.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == presentation.sha256
    event = AuditEvent.objects.get(action="presentation downloaded")
    assert event.actor == manager
    assert event.detail == {"presentation": presentation.pk, "sha256": presentation.sha256}


def test_a_document_still_building_cannot_be_downloaded(client, owner, signed_petition):
    presentation = presenting.present_petition(signed_petition, user=owner, **PRESENTED)
    client.force_login(owner)

    response = client.get(reverse("admin:petitions_presentation_document", args=[presentation.pk]))

    assert response.status_code == 404


def test_the_present_form_starts_with_todays_date_in_the_date_box(client, owner, signed_petition):
    client.force_login(owner)

    page = client.get(present_url(signed_petition)).content.decode()

    assert f'value="{timezone.localdate().isoformat()}"' in page


def test_a_presented_petition_is_frozen_in_the_admin(client, superuser, signed_petition):
    present(signed_petition, superuser)
    client.force_login(superuser)
    change = reverse("admin:petitions_petition_change", args=[signed_petition.pk])

    page = client.get(change).content.decode()

    assert 'name="title"' not in page
    assert 'name="paper_batches-0-count"' not in page
    assert 'name="demands-0-text"' not in page
    client.post(change, {"title": "Changed afterwards", "status": "open"})
    signed_petition.refresh_from_db()
    assert signed_petition.title != "Changed afterwards"
    assert signed_petition.status == Petition.Status.PRESENTED
    assert signed_petition.paper_count == 5


def test_a_presented_petition_can_be_archived_in_the_admin_but_not_reopened(
    client, superuser, signed_petition
):
    from tests.petitions.test_paper_batches import change_form

    present(signed_petition, superuser)
    client.force_login(superuser)
    change = reverse("admin:petitions_petition_change", args=[signed_petition.pk])
    data = change_form(client, signed_petition)

    reopened = client.post(change, {**data, "status": "open"})
    archived = client.post(change, {**data, "status": "archived"})

    assert reopened.status_code == 200
    assert "has been presented" in reopened.content.decode()
    assert archived.status_code == 302
    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.ARCHIVED
    assert not client.get(change).content.decode().count("Mark as presented")


def test_the_presentation_page_offers_the_document_only_through_the_checked_view(
    client, superuser, signed_petition
):
    presentation = present(signed_petition, superuser)
    client.force_login(superuser)

    page = client.get(
        reverse("admin:petitions_presentation_change", args=[presentation.pk])
    ).content.decode()

    assert reverse("admin:petitions_presentation_document", args=[presentation.pk]) in page
    assert f'href="/{presentation.document.name}"' not in page
    assert presentation.document.name not in page
