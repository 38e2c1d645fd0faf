from __future__ import annotations

from django.urls import reverse

from accounts.models import AuditEvent
from petitions.models import Petition, Signature
from tests.conftest import a_moment_later, make_signature


def test_staff_must_log_in(client, db):
    response = client.get(reverse("admin:petitions_signature_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_signatures_can_be_filtered_and_searched(client, superuser, petition):
    make_signature(petition, email="min-ji@example.org", name="Kim Min-ji")
    make_signature(
        petition,
        email="ivan@example.org",
        name="Иван Петров",
        country="RU",
        status=Signature.Status.CONFIRMED,
    )
    client.force_login(superuser)
    url = reverse("admin:petitions_signature_changelist")

    by_name = client.get(url, {"q": "Иван"}).content.decode()
    by_email = client.get(url, {"q": "min-ji@"}).content.decode()
    by_status = client.get(url, {"status__exact": "confirmed"}).content.decode()
    by_country = client.get(url, {"country__exact": "RU"}).content.decode()

    assert "Иван Петров" in by_name and "Kim Min-ji" not in by_name
    assert "Kim Min-ji" in by_email and "Иван Петров" not in by_email
    assert "Иван Петров" in by_status and "Kim Min-ji" not in by_status
    assert "Иван Петров" in by_country and "Kim Min-ji" not in by_country
    signed = Signature.objects.get(name="Kim Min-ji").created_at
    in_range = {"created_at__gte": signed.isoformat(), "created_at__lt": "2100-01-01 00:00+00:00"}
    assert "Kim Min-ji" in client.get(url, in_range).content.decode()


def test_a_name_with_markup_is_escaped_in_the_admin(client, superuser, petition):
    make_signature(petition, name="<img src=x onerror=alert(1)>")
    client.force_login(superuser)

    page = client.get(reverse("admin:petitions_signature_changelist")).content.decode()

    assert "<img src=x onerror" not in page


def test_a_petition_is_edited_with_its_demands_inline(client, superuser, petition):
    client.force_login(superuser)

    page = client.get(reverse("admin:petitions_petition_change", args=[petition.pk])).content
    assert b"demands-TOTAL_FORMS" in page
    assert b"Stop forcible repatriation." in page


def test_staff_can_create_a_petition_with_demands(client, superuser, campaign):
    client.force_login(superuser)
    data = {
        "campaign": campaign.pk,
        "language": "en",
        "title_en": "Free the ten",
        "title_zh_hans": "释放这十个人",
        "slug": "free-the-ten",
        "target_en": "The Chinese embassy",
        "target_zh_hans": "中国大使馆",
        "recipient_language": "zh-hans",
        "statement_en": "Ten people detained.",
        "statement_zh_hans": "十人被拘留。",
        "goal": 5000,
        "goal_step": 0,
        "status": "open",
        "opens_at_0": "",
        "opens_at_1": "",
        "closes_at_0": "",
        "closes_at_1": "",
        "demands-TOTAL_FORMS": 2,
        "demands-INITIAL_FORMS": 0,
        "demands-0-position": 1,
        "demands-0-text_en": "Do not send them back.",
        "demands-0-text_zh_hans": "不要遣返他们。",
        "demands-1-position": 2,
        "demands-1-text_en": "Let them travel on.",
        "demands-1-text_zh_hans": "让他们继续前行。",
        "paper_batches-TOTAL_FORMS": 0,
        "paper_batches-INITIAL_FORMS": 0,
        "presentations-TOTAL_FORMS": 0,
        "presentations-INITIAL_FORMS": 0,
    }

    response = client.post(reverse("admin:petitions_petition_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    petition = Petition.objects.get(slug="free-the-ten")
    assert list(petition.demands.values_list("text_en", "text_zh_hans")) == [
        ("Do not send them back.", "不要遣返他们。"),
        ("Let them travel on.", "让他们继续前行。"),
    ]
    assert petition.recipient_language == "zh-hans"  # the document's headings: Chinese too
    assert petition.languages == ["en", "zh-hans"]


def test_the_count_cannot_be_typed_in(client, superuser, petition):
    client.force_login(superuser)

    page = client.get(reverse("admin:petitions_petition_change", args=[petition.pk])).content
    assert b'name="signature_count"' not in page


def test_invalidating_signatures_takes_them_off_the_count(client, superuser, petition):
    confirmed = make_signature(petition, email="a@example.org", status=Signature.Status.CONFIRMED)
    pending = make_signature(petition, email="b@example.org")
    kept = make_signature(petition, email="c@example.org", status=Signature.Status.CONFIRMED)
    Petition.objects.filter(pk=petition.pk).update(signature_count=2)  # as counting keeps it
    petition.refresh_from_db()
    client.force_login(superuser)

    client.post(
        reverse("admin:petitions_signature_changelist"),
        {
            "action": "invalidate",
            "confirmed": "yes",
            "_selected_action": [confirmed.pk, pending.pk],
        },
    )

    a_moment_later()
    petition.refresh_from_db()
    assert petition.signature_count == 1
    statuses = dict(Signature.objects.values_list("pk", "status"))
    assert statuses == {
        confirmed.pk: "invalidated",
        pending.pk: "invalidated",
        kept.pk: "confirmed",
    }


def test_the_organisation_admin_manages_memberships(client, superuser, owner, organisation):
    client.force_login(superuser)

    page = client.get(reverse("admin:accounts_organisation_change", args=[organisation.pk]))

    assert b"memberships-TOTAL_FORMS" in page.content
    assert b"olivia" in page.content


def test_the_audit_log_cannot_be_edited(client, superuser):
    event = AuditEvent.objects.create(action="export", target="petition 1")
    client.force_login(superuser)

    assert client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    assert (
        client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk])).status_code == 403
    )
