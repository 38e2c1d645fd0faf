"""Presentation documents and exports whose task was lost: presenting and exporting with the
broker down still answer (the row is saved)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from petitions import counting
from petitions.models import Export, Petition, Presentation, Signature
from tests.conftest import make_signature, on_commit_runs

pytestmark = pytest.mark.usefixtures("private_media")


@pytest.fixture
def signed_petition(petition) -> Petition:
    for n in range(3):
        make_signature(
            petition,
            email=f"signer{n}@example.org",
            name=f"Signer {n}",
            status=Signature.Status.CONFIRMED,
            verified_at=timezone.now(),
        )
    counting.rebuild(petition)
    return petition


def present_form() -> dict:
    return {
        "presented_on": timezone.localdate().isoformat(),
        "place": "the Chinese Embassy, London",
        "recipient": "the Ambassador",
        "presented_by": "Olivia",
    }


def present(client, petition):
    with on_commit_runs():
        return client.post(
            reverse("admin:petitions_petition_present", args=[petition.pk]), present_form()
        )


# With the broker down -------------------------------------------------------------------------


def test_marking_as_presented_with_the_broker_down_answers_and_keeps_the_presentation(
    client, owner, signed_petition, broker_down
):
    client.force_login(owner)

    response = present(client, signed_petition)

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:petitions_petition_change", args=[signed_petition.pk]
    )
    signed_petition.refresh_from_db()
    assert signed_petition.status == Petition.Status.PRESENTED
    presentation = Presentation.objects.get()
    assert presentation.status == Presentation.Status.BUILDING
    assert presentation.total_count == 3


def test_a_background_export_with_the_broker_down_answers_and_keeps_the_export(
    client, owner, signed_petition, broker_down, settings
):
    settings.EXPORT_BACKGROUND_THRESHOLD = 1
    client.force_login(owner)

    with on_commit_runs():
        response = client.get(
            reverse("admin:petitions_petition_export_csv", args=[signed_petition.pk])
        )

    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:petitions_export_change", args=[export.pk])
    assert export.status == Export.Status.QUEUED


def test_the_background_export_action_with_the_broker_down_keeps_the_exports(
    client, owner, signed_petition, broker_down
):
    client.force_login(owner)

    with on_commit_runs():
        response = client.post(
            reverse("admin:petitions_petition_changelist"),
            {"action": "export_csv_in_background", "_selected_action": [signed_petition.pk]},
        )

    assert response.status_code == 302
    assert Export.objects.get().status == Export.Status.QUEUED
