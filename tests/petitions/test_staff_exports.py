"""Staff downloads in the admin: the signatures CSV, the presentation PDF, the paper sheet, the
presentation document and background exports, for each member of the cast.

Olivia (owner) and Manuel (manager) see emails; Vera (viewer) does not; Oscar (outsider, owner
of another organisation) gets a 404 for everything, as if the petition did not exist."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from campaigns.models import Campaign
from petitions.models import Export, Petition, Presentation, Signature
from petitions.services import counting, exporting, presenting
from tests.conftest import make_petition, make_signature, on_commit_runs
from tests.petitions.test_exports import HEADER_WITH_EMAIL, HEADER_WITHOUT_EMAIL

SIGNERS = [
    ("김민지", "min-ji@example.org", "KR", "Seoul"),
    ("محمد العلي", "ali@example.org", "EG", "Cairo"),
    ("=Mallory", "mallory@example.org", "GB", "London"),
]


# Presentation documents and exports are written under a temporary PRIVATE_MEDIA_ROOT.
pytestmark = pytest.mark.usefixtures("private_media")


@pytest.fixture
def signed_petition(petition) -> Petition:
    """Our petition with three counted signatures and one pending."""
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for minutes, (name, email, country, city) in enumerate(SIGNERS):
        make_signature(
            petition,
            email=email,
            name=name,
            country=country,
            city=city,
            status=Signature.Status.CONFIRMED,
            verified_at=start + timedelta(minutes=minutes),
        )
    make_signature(petition, email="pending@example.org", name="Not yet")
    counting.rebuild(petition)
    petition.refresh_from_db()
    return petition


def csv_url(petition: Petition) -> str:
    return reverse("admin:petitions_petition_export_csv", args=[petition.pk])


def pdf_url(petition: Petition) -> str:
    return reverse("admin:petitions_petition_document_pdf", args=[petition.pk])


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def parse_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def build_export(petition: Petition, user: User, fmt: str = "csv", include_email: bool = True):
    with on_commit_runs():
        export = exporting.request_export(
            petition, format=fmt, include_email=include_email, user=user
        )
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    return export


def build_presentation(petition: Petition, user: User) -> Presentation:
    with on_commit_runs():
        presentation = presenting.present_petition(
            petition,
            presented_on=timezone.localdate(),
            place="the Chinese Embassy, London",
            recipient="the Ambassador",
            presented_by="Olivia",
            user=user,
        )
    presentation.refresh_from_db()
    assert presentation.status == Presentation.Status.READY, presentation.error
    return presentation


# The CSV, by role ----------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["owner", "manager", "superuser"])
def test_owners_and_managers_download_the_csv_with_emails(client, request, signed_petition, member):
    user = request.getfixturevalue(member)
    client.force_login(user)

    response = client.get(csv_url(signed_petition))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="safe-passage-signatures-'
    )
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    table = parse_csv(data)
    assert table[0] == HEADER_WITH_EMAIL
    assert [row[1:4] for row in table[1:]] == [
        ["김민지", "min-ji@example.org", "Seoul"],
        ["محمد العلي", "ali@example.org", "Cairo"],
        ["'=Mallory", "mallory@example.org", "London"],
    ]


def test_a_viewer_downloads_the_csv_without_emails(client, viewer, signed_petition):
    client.force_login(viewer)

    response = client.get(csv_url(signed_petition))

    assert response.status_code == 200
    data = body(response)
    table = parse_csv(data)
    assert table[0] == HEADER_WITHOUT_EMAIL
    assert len(table) == 1 + len(SIGNERS)
    assert b"@example.org" not in data


def test_every_csv_download_is_audited(client, owner, viewer, signed_petition, organisation):
    for user in (owner, viewer):
        client.force_login(user)
        assert client.get(csv_url(signed_petition)).status_code == 200

    events = AuditEvent.objects.filter(action="csv export").order_by("pk")
    assert [(e.actor, e.organisation, e.target) for e in events] == [
        (owner, organisation, str(signed_petition)),
        (viewer, organisation, str(signed_petition)),
    ]
    assert [e.detail for e in events] == [
        {"rows": 3, "include_email": True},
        {"rows": 3, "include_email": False},
    ]


# The PDF and the paper sheet -----------------------------------------------------------------


@pytest.mark.parametrize("member", ["owner", "viewer"])
def test_staff_download_the_presentation_pdf_and_it_is_audited(
    client, request, signed_petition, organisation, member
):
    user = request.getfixturevalue(member)
    client.force_login(user)

    response = client.get(pdf_url(signed_petition))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = body(response)
    assert data.startswith(b"%PDF")
    event = AuditEvent.objects.get(action="pdf export")
    assert (event.actor, event.organisation) == (user, organisation)
    assert event.detail == {"rows": 3, "sha256": hashlib.sha256(data).hexdigest()}


def test_staff_download_the_paper_sheet(client, viewer, signed_petition):
    client.force_login(viewer)

    response = client.get(
        reverse("admin:petitions_petition_paper_sheet", args=[signed_petition.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


# Outsiders and strangers ---------------------------------------------------------------------


@pytest.fixture
def every_staff_url(signed_petition, campaign, owner) -> dict[str, str]:
    """One URL of each staff download on our organisation's petitions."""
    presented = make_petition(campaign, "presented-one")
    presentation = build_presentation(presented, owner)
    export = build_export(signed_petition, owner)
    return {
        "csv": csv_url(signed_petition),
        "pdf": pdf_url(signed_petition),
        "paper sheet": reverse("admin:petitions_petition_paper_sheet", args=[signed_petition.pk]),
        "present": reverse("admin:petitions_petition_present", args=[signed_petition.pk]),
        "presentation document": reverse(
            "admin:petitions_presentation_document", args=[presentation.pk]
        ),
        "export download": reverse("admin:petitions_export_download", args=[export.pk]),
    }


def test_an_outsider_gets_404_for_every_download(client, outsider, every_staff_url):
    client.force_login(outsider)
    AuditEvent.objects.all().delete()

    statuses = {name: client.get(url).status_code for name, url in every_staff_url.items()}

    assert statuses == dict.fromkeys(every_staff_url, 404)
    assert not AuditEvent.objects.exists()


def test_an_outsider_cannot_present_our_petition(client, outsider, signed_petition):
    client.force_login(outsider)
    url = reverse("admin:petitions_petition_present", args=[signed_petition.pk])

    response = client.post(
        url,
        {
            "presented_on": timezone.localdate().isoformat(),
            "place": "Somewhere",
            "recipient": "Someone",
            "presented_by": "Oscar",
        },
    )

    assert response.status_code == 404
    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.OPEN
    assert not Presentation.objects.exists()


def test_an_outsider_even_with_model_permissions_gets_404(client, outsider, every_staff_url):
    outsider.user_permissions.set(Permission.objects.filter(content_type__app_label="petitions"))
    client.force_login(outsider)

    statuses = {name: client.get(url).status_code for name, url in every_staff_url.items()}

    assert statuses == dict.fromkeys(every_staff_url, 404)


def test_anonymous_visitors_are_sent_to_the_admin_login(client, every_staff_url):
    for name, url in every_staff_url.items():
        response = client.get(url)

        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("admin:login")), name


def test_a_staff_user_without_any_membership_gets_404(client, signed_petition):
    nobody = User.objects.create_user("nadia", "nadia@example.org", "pw", is_staff=True)
    client.force_login(nobody)

    assert client.get(csv_url(signed_petition)).status_code == 404
    assert client.get(pdf_url(signed_petition)).status_code == 404


@pytest.mark.parametrize("object_id", ["999999", "abc", "1/../2"])
def test_unknown_or_malformed_ids_are_404(client, owner, signed_petition, object_id):
    client.force_login(owner)

    assert client.get(f"/admin/petitions/petition/{object_id}/export.csv").status_code == 404
    assert client.get(f"/admin/petitions/export/{object_id}/download/").status_code == 404
    assert client.get(f"/admin/petitions/presentation/{object_id}/document/").status_code == 404


# Large exports run in the background ---------------------------------------------------------


def test_a_large_csv_export_is_built_in_the_background(
    client, owner, signed_petition, settings, private_media, organisation
):
    settings.EXPORT_BACKGROUND_THRESHOLD = 2
    client.force_login(owner)

    with on_commit_runs():
        response = client.get(csv_url(signed_petition))

    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:petitions_export_change", args=[export.pk])
    assert export.format == Export.Format.CSV
    assert export.status == Export.Status.DONE, export.error
    assert export.include_email is True
    assert export.requested_by == owner
    assert export.rows_done == export.rows_total == 3
    assert export.progress_percent == 100
    assert export.finished_at is not None
    stored = private_media / export.file.name
    assert stored.is_file()
    table = parse_csv(stored.read_bytes())
    assert table[0][2] == "email"
    assert len(table) == 4
    built = AuditEvent.objects.get(action="csv export")
    assert (built.actor, built.organisation) == (owner, organisation)
    assert built.detail == {"rows": 3, "include_email": True, "background": True}


def test_a_background_export_is_downloaded_and_the_download_audited(
    client, owner, signed_petition, settings
):
    settings.EXPORT_BACKGROUND_THRESHOLD = 2
    client.force_login(owner)
    with on_commit_runs():
        client.get(csv_url(signed_petition))
    export = Export.objects.get()

    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="safe-passage-{export.pk}.csv"' in response["Content-Disposition"]
    table = parse_csv(body(response))
    assert [row[2] for row in table[1:]] == [
        "min-ji@example.org",
        "ali@example.org",
        "mallory@example.org",
    ]
    downloaded = AuditEvent.objects.get(action="csv export downloaded")
    assert downloaded.actor == owner
    assert downloaded.detail == {"export": export.pk}


def test_a_large_pdf_export_is_built_in_the_background(
    client, manager, signed_petition, settings, private_media
):
    settings.EXPORT_BACKGROUND_THRESHOLD = 2
    client.force_login(manager)

    with on_commit_runs():
        response = client.get(pdf_url(signed_petition))

    export = Export.objects.get()
    assert response.status_code == 302
    assert export.format == Export.Format.PDF
    assert export.include_email is False
    assert export.status == Export.Status.DONE, export.error
    assert export.rows_done == export.rows_total == 3
    assert (private_media / export.file.name).read_bytes().startswith(b"%PDF")
    download = client.get(reverse("admin:petitions_export_download", args=[export.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert body(download).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="pdf export downloaded", actor=manager).exists()


def test_a_download_reads_the_file_where_the_task_wrote_it(
    client, owner, signed_petition, settings, tmp_path
):
    """The task that writes the file and the view that serves it read PRIVATE_MEDIA_ROOT from
    the settings when they run, so they agree even when it changes after start-up."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "moved"
    export = build_export(signed_petition, owner)
    client.force_login(owner)

    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]))

    assert (tmp_path / "moved" / export.file.name).is_file()
    assert response.status_code == 200


def test_a_viewers_background_export_has_no_emails(client, viewer, signed_petition, settings):
    settings.EXPORT_BACKGROUND_THRESHOLD = 2
    client.force_login(viewer)

    with on_commit_runs():
        client.get(csv_url(signed_petition))

    export = Export.objects.get()
    assert export.include_email is False
    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]))
    assert response.status_code == 200
    assert b"@example.org" not in body(response)


def test_a_viewer_cannot_download_an_export_with_emails(client, owner, viewer, signed_petition):
    export = build_export(signed_petition, owner, include_email=True)
    client.force_login(viewer)

    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]))

    assert response.status_code == 404


def test_a_manager_downloads_an_export_the_owner_asked_for(client, owner, manager, signed_petition):
    export = build_export(signed_petition, owner, include_email=True)
    client.force_login(manager)

    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]))

    assert response.status_code == 200
    assert b"min-ji@example.org" in body(response)


def test_an_export_that_is_not_done_cannot_be_downloaded(client, owner, signed_petition):
    export = exporting.request_export(signed_petition, format="csv", include_email=True, user=owner)
    client.force_login(owner)

    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]))

    assert export.status == Export.Status.QUEUED
    assert response.status_code == 404


def test_at_the_threshold_the_csv_is_still_built_in_the_request(
    client, owner, signed_petition, settings
):
    settings.EXPORT_BACKGROUND_THRESHOLD = 3
    client.force_login(owner)

    response = client.get(csv_url(signed_petition))

    assert response.status_code == 200
    assert not Export.objects.exists()


# The admin action ----------------------------------------------------------------------------


def run_export_action(client, petitions: list[Petition]):
    return client.post(
        reverse("admin:petitions_petition_changelist"),
        {"action": "export_csv_in_background", "_selected_action": [p.pk for p in petitions]},
        follow=True,
    )


def test_the_admin_action_queues_one_export_per_selected_petition(
    client, superuser, signed_petition, campaign
):
    second = make_petition(campaign, "second-petition")
    make_petition(campaign, "not-selected")
    client.force_login(superuser)

    response = run_export_action(client, [signed_petition, second])

    assert response.status_code == 200
    assert "2 export(s) queued" in response.content.decode()
    queued = Export.objects.order_by("petition__slug")
    assert [(e.petition, e.format, e.status, e.include_email) for e in queued] == [
        (signed_petition, "csv", Export.Status.QUEUED, True),
        (second, "csv", Export.Status.QUEUED, True),
    ]


def test_the_exports_queued_by_the_action_are_built(client, superuser, signed_petition, campaign):
    second = make_petition(campaign, "second-petition")
    client.force_login(superuser)

    with on_commit_runs():
        run_export_action(client, [signed_petition, second])

    rows = {e.petition.slug: (e.status, e.rows_done, e.rows_total) for e in Export.objects.all()}
    assert rows == {
        "safe-passage": (Export.Status.DONE, 3, 3),
        "second-petition": (Export.Status.DONE, 0, 0),
    }


def test_the_admin_action_skips_petitions_of_other_organisations(
    client, outsider, signed_petition, other_organisation
):
    theirs = make_petition(
        Campaign.objects.create(organisation=other_organisation, title_en="Theirs", slug="theirs"),
        "their-petition",
    )
    outsider.user_permissions.set(Permission.objects.filter(codename="view_petition"))
    client.force_login(outsider)

    response = run_export_action(client, [signed_petition, theirs])

    assert "1 export(s) queued" in response.content.decode()
    assert list(Export.objects.values_list("petition__slug", flat=True)) == ["their-petition"]
