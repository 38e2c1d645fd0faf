"""Export files are deleted EXPORT_RETENTION_DAYS after they were built, each deletion audited
without personal data; the row stays and says so; presentation documents are kept
(petitions.services.retention.delete_expired_exports, run hourly by beat)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEvent
from petitions.models import Export, Petition, Presentation, Signature
from petitions.services import counting, exporting, presenting
from petitions.tasks import delete_expired_exports
from tests.conftest import make_signature, on_commit_runs

BUILT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def signed_petition(petition) -> Petition:
    """Open since before BUILT, with one counted signature."""
    Petition.objects.filter(pk=petition.pk).update(opens_at=BUILT - timedelta(days=30))
    make_signature(
        petition,
        "min-ji@example.org",
        name="김민지",
        status=Signature.Status.CONFIRMED,
        verified_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
    )
    counting.rebuild(petition)
    petition.refresh_from_db()
    return petition


@pytest.fixture
def export(signed_petition, owner, private_media) -> Export:
    """A CSV with addresses, built at BUILT."""
    with time_machine.travel(BUILT, tick=False), on_commit_runs():
        export = exporting.request_export(
            signed_petition, format="csv", include_email=True, user=owner
        )
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    return export


def run_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return delete_expired_exports.delay().get()


def test_an_export_older_than_seven_days_loses_its_file(export, private_media):
    stored = private_media / export.file.name

    deleted = run_at(BUILT + timedelta(days=7, minutes=1))

    assert deleted == 1
    assert not stored.exists()
    export.refresh_from_db()
    assert export.status == Export.Status.DELETED
    assert export.file.name == ""


def test_an_export_younger_than_seven_days_is_kept(export, private_media):
    deleted = run_at(BUILT + timedelta(days=6, hours=23))

    assert deleted == 0
    assert (private_media / export.file.name).is_file()
    export.refresh_from_db()
    assert export.status == Export.Status.DONE


def test_the_number_of_days_is_a_setting(export, settings):
    settings.EXPORT_RETENTION_DAYS = 2

    assert run_at(BUILT + timedelta(days=1, hours=23)) == 0
    assert run_at(BUILT + timedelta(days=2, minutes=1)) == 1


def test_each_deleted_file_is_audited_once_without_personal_data(export, organisation):
    run_at(BUILT + timedelta(days=8))
    run_at(BUILT + timedelta(days=9))

    event = AuditEvent.objects.get(action="export file deleted")
    assert event.actor is None
    assert event.organisation == organisation
    assert event.target == str(export.petition)
    assert event.detail == {
        "export": export.pk,
        "format": "csv",
        "include_email": True,
        "finished_at": BUILT.isoformat(),
        "retention_days": 7,
    }
    assert "@" not in str(event.detail) and "김민지" not in str(event.detail)


def test_a_file_already_gone_is_marked_deleted_all_the_same(export, private_media):
    (private_media / export.file.name).unlink()

    assert run_at(BUILT + timedelta(days=8)) == 1

    export.refresh_from_db()
    assert export.status == Export.Status.DELETED


def test_exports_not_done_are_left_alone(signed_petition, owner, private_media):
    with time_machine.travel(BUILT, tick=False):
        queued = exporting.request_export(signed_petition, format="csv", include_email=False)
        failed = Export.objects.create(
            petition=signed_petition, format="csv", status=Export.Status.FAILED, finished_at=BUILT
        )

    assert run_at(BUILT + timedelta(days=30)) == 0

    assert set(Export.objects.values_list("pk", "status")) == {
        (queued.pk, Export.Status.QUEUED),
        (failed.pk, Export.Status.FAILED),
    }


def test_presentation_documents_are_kept(signed_petition, owner, private_media):
    with time_machine.travel(BUILT, tick=False), on_commit_runs():
        presentation = presenting.present_petition(
            signed_petition,
            user=owner,
            presented_on=date(2026, 3, 2),
            place="the Chinese Embassy, London",
            recipient="the Ambassador",
            presented_by="Olivia Owen",
        )
    presentation.refresh_from_db()
    assert presentation.status == Presentation.Status.READY, presentation.error

    run_at(BUILT + timedelta(days=365))

    assert (private_media / presentation.document.name).is_file()


def test_the_download_of_a_deleted_export_says_the_file_was_deleted(client, owner, export):
    run_at(BUILT + timedelta(days=8))
    client.force_login(owner)

    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [
        (reverse("admin:petitions_export_change", args=[export.pk]), 302)
    ]
    page = response.content.decode()
    assert "was deleted 7 days after it was built" in page
    assert "File deleted" in page
    assert not AuditEvent.objects.filter(action="csv export downloaded").exists()


def test_a_deleted_export_is_shown_as_such_in_the_list(client, owner, export):
    run_at(BUILT + timedelta(days=8))
    client.force_login(owner)

    response = client.get(reverse("admin:petitions_export_changelist"))

    assert response.status_code == 200
    assert "File deleted" in response.content.decode()
    assert reverse("admin:petitions_export_download", args=[export.pk]) not in (
        response.content.decode()
    )


def test_an_outsider_learns_nothing_of_a_deleted_export(client, outsider, export):
    run_at(BUILT + timedelta(days=8))
    client.force_login(outsider)

    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]))

    assert response.status_code == 404


def test_a_done_export_whose_file_is_missing_answers_404_not_500(
    client, owner, export, private_media
):
    (private_media / export.file.name).unlink()
    client.force_login(owner)

    response = client.get(reverse("admin:petitions_export_download", args=[export.pk]))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="csv export downloaded").exists()
