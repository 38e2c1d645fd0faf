from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from petitions.models import Petition, Signature
from tests.conftest import SIGN_DATA, make_petition, make_signature, on_commit_runs, post_form


def sign_url(petition) -> str:
    return reverse("petitions:sign", args=[petition.slug])


def post_sign(client, petition, **overrides):
    with on_commit_runs():
        return post_form(client, sign_url(petition), {**SIGN_DATA, **overrides})


def test_it_rejects_get(client, petition):
    assert client.get(sign_url(petition)).status_code == 405


def test_a_valid_signature_starts_pending_and_sends_one_confirmation(client, petition):
    response = post_sign(client, petition)

    assert response.status_code == 302
    assert response["Location"] == reverse("petitions:signed", args=[petition.slug])
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert (signature.name, signature.country.code, signature.city) == ("Kim Min-ji", "KR", "Seoul")
    petition.refresh_from_db()
    assert petition.signature_count == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["min-ji@example.org"]
    assert petition.title in message.subject
    confirm_path = f"/confirm/{signature.uuid}/"
    assert confirm_path in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and confirm_path in html


def test_the_check_your_email_page_follows(client, petition):
    with on_commit_runs():
        response = post_form(client, sign_url(petition), SIGN_DATA, follow=True)

    assert response.status_code == 200
    assert b"check your email" in response.content


def test_the_email_is_stored_as_typed_and_matched_without_case_or_spaces(client, petition):
    post_sign(client, petition, email="  Min-Ji@Example.ORG ")

    signature = Signature.objects.get()
    assert signature.email == "Min-Ji@Example.ORG"
    assert signature.email_canonical == "min-ji@example.org"


def test_duplicate_email_does_not_count_twice(client, petition):
    post_sign(client, petition)
    post_sign(client, petition, email="MIN-JI@example.org ", name="Someone Else")

    assert Signature.objects.count() == 1
    assert Signature.objects.get().name == "Kim Min-ji"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_one_address_signing_from_several_requests_at_once_makes_one_signature(petition, settings):
    """The unique (petition, address) constraint decides the race: one request inserts the
    row, each of the others finds it there and asks for one more email, up to the cap."""
    settings.SIGNING_RATE_LIMITS = False
    settings.CONFIRMATION_EMAILS_MAX = 3
    spellings = [
        "min-ji@example.org",
        "MIN-JI@example.org",
        "Min-Ji@Example.ORG ",
        "min-ji@EXAMPLE.org",
    ]
    barrier = threading.Barrier(len(spellings))
    statuses = []

    def sign(email: str) -> None:
        try:
            barrier.wait()
            statuses.append(
                post_form(Client(), sign_url(petition), {**SIGN_DATA, "email": email}).status_code
            )
        finally:
            connections.close_all()

    signing = [threading.Thread(target=sign, args=[email]) for email in spellings]
    for thread in signing:
        thread.start()
    for thread in signing:
        thread.join()

    assert statuses == [302] * len(spellings)
    signature = Signature.objects.get()
    assert signature.email_canonical == "min-ji@example.org"
    assert signature.confirmations_requested == 3


def test_signing_again_while_pending_resends_the_confirmation_a_few_times_only(
    client, petition, settings
):
    settings.CONFIRMATION_EMAILS_MAX = 3
    for _ in range(6):
        assert post_sign(client, petition).status_code == 302

    assert len(mail.outbox) == 3
    links = {m.body.split("/confirm/")[1].split()[0] for m in mail.outbox}
    assert len(links) == 1, "every re-sent email carries the same working link"
    signature = Signature.objects.get()
    assert (signature.confirmations_requested, signature.confirmations_sent) == (3, 3)


def test_signing_again_once_confirmed_sends_a_note_and_counts_nothing(client, petition):
    signature = make_signature(petition, status=Signature.Status.CONFIRMED)
    Petition.objects.filter(pk=petition.pk).update(signature_count=1)  # as counting keeps it
    petition.refresh_from_db()

    post_sign(client, petition, email=signature.email)

    assert Signature.objects.count() == 1
    petition.refresh_from_db()
    assert petition.signature_count == 1
    assert len(mail.outbox) == 1
    assert "already" in mail.outbox[0].subject.lower()
    assert "/confirm/" not in mail.outbox[0].body


@pytest.mark.parametrize("status", [Signature.Status.INVALIDATED, Signature.Status.WITHDRAWN])
def test_signing_again_after_removal_sends_nothing_and_changes_nothing(client, petition, status):
    signature = make_signature(petition, status=status)

    response = post_sign(client, petition, email=signature.email)

    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == status
    assert mail.outbox == []


def test_nothing_on_screen_tells_a_stranger_whether_an_address_has_signed(petition):
    make_signature(petition, email="known@example.org", status=Signature.Status.CONFIRMED)
    answers = []
    for email in ["known@example.org", "unknown@example.org"]:
        with on_commit_runs():
            response = post_form(
                Client(), sign_url(petition), {**SIGN_DATA, "email": email}, follow=True
            )
        answers.append((response.status_code, response.redirect_chain, response.content))

    assert answers[0] == answers[1]


BAD_INPUT = {
    "empty name": {"name": ""},
    "blank name": {"name": "   "},
    "name without letters": {"name": "12345 !!!"},
    "5,000-character name": {"name": "A" * 5000},
    "5,000-character city": {"city": "B" * 5000},
    "empty email": {"email": ""},
    "invalid email": {"email": "not-an-address"},
    "two addresses": {"email": "a@example.org, b@example.org"},
    "header injection": {"email": "min-ji@example.org\r\nBcc: victim@example.org"},
    "header injection in the local part": {"email": "a\nb@example.org"},
    "very long email": {"email": ("x" * 250) + "@example.org"},
    "control character in name": {"name": "Min\x07ji"},
    "null byte in name": {"name": "Min\x00ji"},
    "null byte in email": {"email": "min\x00ji@example.org"},
    "escape sequence in city": {"city": "Seoul\x1b[31m"},
    "right-to-left override in name": {"name": "Kim \u202emin-ji"},
    "no country": {"country": ""},
    "unknown country": {"country": "XX"},
    "no consent": {"consent": ""},
}


@pytest.mark.parametrize("overrides", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_gets_a_form_error_and_changes_nothing(client, petition, overrides):
    response = post_sign(client, petition, **overrides)

    assert response.status_code == 400
    assert b"invalid-feedback" in response.content
    assert b"nothing has been recorded" in response.content
    assert not Signature.objects.exists()
    assert mail.outbox == []


def test_a_missing_field_is_an_error_not_a_crash(client, petition):
    response = post_form(client, sign_url(petition), {"name": "Min-ji"})

    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_markup_in_a_name_is_escaped_when_shown_back(client, petition):
    response = post_sign(client, petition, name="<script>alert(1)</script>", email="bad")

    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


def test_a_name_with_markup_is_kept_as_text(client, petition):
    post_sign(client, petition, name="<b>Bold</b> Kim")

    assert Signature.objects.get().name == "<b>Bold</b> Kim"


@pytest.mark.parametrize(
    "name",
    [
        "김민준",
        "王小明",
        "山田 花子",
        "Иван Петров",
        "فاطمة الزهراء",
        "יעל כהן",
        "Nguyễn Thị Lan",
        "Γιώργος",
        "Zoë O'Brien-Müller",
        "मनोज कुमार",
        "مهدی\u200cپور",
    ],
)
def test_names_in_every_script_are_accepted(client, petition, name):
    post_sign(client, petition, name=name)

    assert Signature.objects.get().name == name


def test_names_are_stored_in_composed_form(client, petition):
    post_sign(client, petition, name="Zoe\u0308")

    assert Signature.objects.get().name == "Zo\u00eb"


def test_a_closed_petition_refuses_politely(client, closed_petition):
    response = post_sign(client, closed_petition)

    assert response.status_code == 409
    assert b"no longer takes signatures" in response.content
    assert not Signature.objects.exists()
    assert mail.outbox == []


def test_a_petition_past_its_closing_time_refuses(client, campaign):
    petition = make_petition(campaign, "expired", closes_at=timezone.now() - timedelta(minutes=1))

    assert post_sign(client, petition).status_code == 409
    assert not Signature.objects.exists()


def test_a_petition_not_yet_open_refuses(client, campaign):
    petition = make_petition(campaign, "soon", opens_at=timezone.now() + timedelta(days=2))

    response = post_sign(client, petition)

    assert response.status_code == 409
    assert b"opens for signatures" in response.content
    assert not Signature.objects.exists()


def test_a_draft_petition_cannot_be_found(client, draft_petition):
    assert post_sign(client, draft_petition).status_code == 404
    assert not Signature.objects.exists()


def test_an_unknown_petition_is_a_404(client, db):
    response = client.post("/petitions/no-such-thing/sign/", SIGN_DATA)

    assert response.status_code == 404


def test_it_refuses_a_post_from_another_site(petition):
    client = Client(enforce_csrf_checks=True)

    response = client.post(sign_url(petition), SIGN_DATA, HTTP_ORIGIN="https://evil.example")

    assert response.status_code == 403
    assert not Signature.objects.exists()
