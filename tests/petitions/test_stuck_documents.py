"""Presentation documents and exports whose task was lost: presenting and exporting with the
broker down still answer (the row is saved), the periodic sweep queues them again, and staff who
may present build a failed (or stuck) presentation's document again."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from petitions import tasks
from petitions.models import Export, Petition, Presentation, Signature
from petitions.services import counting, exporting, presenting
from tests.conftest import make_signature, on_commit_runs

pytestmark = pytest.mark.usefixtures("private_media")

STUCK = timedelta(minutes=presenting.STUCK_MINUTES, seconds=1)


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


PRESENTED = {
    "place": "the Chinese Embassy, London",
    "recipient": "the Ambassador",
    "presented_by": "Olivia",
}


def present_form() -> dict:
    return {**PRESENTED, "presented_on": timezone.localdate().isoformat()}


def present_now(petition: Petition) -> Presentation:
    return presenting.present_petition(petition, presented_on=timezone.localdate(), **PRESENTED)


def present(client, petition):
    with on_commit_runs():
        return client.post(
            reverse("admin:petitions_petition_present", args=[petition.pk]), present_form()
        )


def presented(petition, status=Presentation.Status.FAILED) -> Presentation:
    """The petition presented, its document left in `status`."""
    with on_commit_runs():
        presentation = present_now(petition)
    Presentation.objects.filter(pk=presentation.pk).update(status=status, error="OSError: full")
    presentation.refresh_from_db()
    return presentation


def rebuild_url(presentation: Presentation) -> str:
    return reverse("admin:petitions_presentation_rebuild", args=[presentation.pk])


def rebuild(client, presentation: Presentation):
    with on_commit_runs():
        response = client.post(rebuild_url(presentation))
    presentation.refresh_from_db()
    return response


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


# The sweep ------------------------------------------------------------------------------------


def test_the_sweep_builds_a_presentation_whose_task_was_lost(
    client, owner, signed_petition, broker_down
):
    client.force_login(owner)
    present(client, signed_petition)
    broker_down()  # is back

    with time_machine.travel(timezone.now() + STUCK):
        assert tasks.requeue_stuck_documents() == 1

    presentation = Presentation.objects.get()
    assert presentation.status == Presentation.Status.READY, presentation.error
    assert len(presentation.sha256) == 64


def test_the_sweep_builds_an_export_whose_task_was_lost(owner, signed_petition, broker_down):
    with on_commit_runs():
        exporting.request_export(signed_petition, format="csv", include_email=False, user=owner)
    broker_down()  # is back

    with time_machine.travel(timezone.now() + STUCK):
        assert tasks.requeue_stuck_documents() == 1

    export = Export.objects.get()
    assert export.status == Export.Status.DONE, export.error
    assert export.rows_done == 3


def test_the_sweep_leaves_documents_asked_for_minutes_ago_to_their_own_tasks(
    owner, signed_petition, broker_down
):
    with on_commit_runs():
        present_now(signed_petition)
        exporting.request_export(signed_petition, format="csv", include_email=False, user=owner)
    broker_down()  # is back

    with time_machine.travel(timezone.now() + STUCK - timedelta(seconds=2)):
        assert tasks.requeue_stuck_documents() == 0

    assert Presentation.objects.get().status == Presentation.Status.BUILDING
    assert Export.objects.get().status == Export.Status.QUEUED


def test_the_sweep_leaves_failed_built_and_running_documents_alone(owner, signed_petition):
    presented(signed_petition, Presentation.Status.FAILED)
    for status in (Export.Status.RUNNING, Export.Status.DONE, Export.Status.FAILED):
        Export.objects.create(petition=signed_petition, format="csv", status=status)

    with time_machine.travel(timezone.now() + STUCK):
        assert tasks.requeue_stuck_documents() == 0


def test_the_sweep_with_the_broker_still_down_tries_again_next_time(
    owner, signed_petition, broker_down
):
    with on_commit_runs():
        present_now(signed_petition)

    with time_machine.travel(timezone.now() + STUCK):
        assert tasks.requeue_stuck_documents() == 0
        broker_down()  # is back
        assert tasks.requeue_stuck_documents() == 1

    assert Presentation.objects.get().status == Presentation.Status.READY


def test_building_twice_changes_nothing(owner, signed_petition):
    presentation = presented(signed_petition, Presentation.Status.BUILDING)
    assert tasks.build_presentation(presentation.pk) == "built"
    sealed = Presentation.objects.values_list("sha256", "completed_at").get()
    with on_commit_runs():
        export = exporting.request_export(
            signed_petition, format="csv", include_email=False, user=owner
        )

    assert tasks.build_presentation(presentation.pk) == "already built"
    assert tasks.run_export(export.pk) == "another worker got there first"
    assert Presentation.objects.values_list("sha256", "completed_at").get() == sealed


# Building a presentation's document again ------------------------------------------------------


@pytest.mark.parametrize("member", ["owner", "manager", "superuser"])
def test_staff_who_may_present_build_a_failed_document_again(
    client, request, signed_petition, member, organisation
):
    user = request.getfixturevalue(member)
    presentation = presented(signed_petition, Presentation.Status.FAILED)
    client.force_login(user)

    response = rebuild(client, presentation)

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:petitions_presentation_change", args=[presentation.pk]
    )
    assert presentation.status == Presentation.Status.READY, presentation.error
    assert (presentation.error, len(presentation.sha256)) == ("", 64)
    event = AuditEvent.objects.get(action="presentation build retried")
    assert (event.actor, event.organisation) == (user, organisation)
    assert event.detail == {"presentation": presentation.pk, "was": "failed"}


def test_a_document_still_building_long_after_presenting_is_built_again(
    client, owner, signed_petition
):
    presentation = presented(signed_petition, Presentation.Status.BUILDING)
    client.force_login(owner)

    with time_machine.travel(timezone.now() + STUCK):
        response = rebuild(client, presentation)

    assert response.status_code == 302
    assert presentation.status == Presentation.Status.READY


def test_with_the_broker_down_the_document_is_left_building_for_the_sweep(
    client, owner, signed_petition, broker_down
):
    presentation = presented(signed_petition, Presentation.Status.FAILED)
    client.force_login(owner)

    response = rebuild(client, presentation)

    assert response.status_code == 302
    assert (presentation.status, presentation.error) == (Presentation.Status.BUILDING, "")


def test_a_document_being_built_is_not_built_twice_at_once(client, owner, signed_petition):
    presentation = presented(signed_petition, Presentation.Status.BUILDING)
    client.force_login(owner)

    response = client.get(rebuild(client, presentation)["Location"])

    assert presentation.status == Presentation.Status.BUILDING
    assert "still being built" in response.content.decode()
    assert not AuditEvent.objects.filter(action="presentation build retried").exists()


def test_a_built_document_is_never_built_again(client, owner, signed_petition):
    presentation = presented(signed_petition, Presentation.Status.BUILDING)
    tasks.build_presentation(presentation.pk)
    presentation.refresh_from_db()
    sealed = (presentation.sha256, presentation.completed_at)
    client.force_login(owner)

    response = client.get(rebuild(client, presentation)["Location"])

    assert "built already" in response.content.decode()
    assert (presentation.sha256, presentation.completed_at) == sealed
    with pytest.raises(presenting.NotRebuilt):  # nor from the shell
        presenting.rebuild_presentation(presentation)


def test_a_viewer_may_not_build_it_again(client, viewer, signed_petition):
    presentation = presented(signed_petition, Presentation.Status.FAILED)
    client.force_login(viewer)

    response = rebuild(client, presentation)

    assert response.status_code == 403
    assert presentation.status == Presentation.Status.FAILED
    assert not AuditEvent.objects.filter(action="presentation build retried").exists()


def test_another_organisations_staff_get_404(client, outsider, signed_petition):
    presentation = presented(signed_petition, Presentation.Status.FAILED)
    client.force_login(outsider)

    response = rebuild(client, presentation)

    assert response.status_code == 404
    assert presentation.status == Presentation.Status.FAILED


def test_anonymous_visitors_are_sent_to_the_login(client, signed_petition):
    presentation = presented(signed_petition, Presentation.Status.FAILED)

    response = rebuild(client, presentation)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert presentation.status == Presentation.Status.FAILED


def test_it_refuses_get(client, owner, signed_petition):
    presentation = presented(signed_petition, Presentation.Status.FAILED)
    client.force_login(owner)

    assert client.get(rebuild_url(presentation)).status_code == 405
    presentation.refresh_from_db()
    assert presentation.status == Presentation.Status.FAILED


@pytest.mark.parametrize("object_id", ["999", "abc"])
def test_an_unknown_presentation_is_404(client, owner, db, object_id):
    client.force_login(owner)

    url = reverse("admin:petitions_presentation_rebuild", args=[object_id])

    assert client.post(url).status_code == 404


def test_the_presentations_page_offers_the_button_to_those_who_may_press_it(
    client, owner, viewer, signed_petition
):
    presentation = presented(signed_petition, Presentation.Status.FAILED)
    page = reverse("admin:petitions_presentation_change", args=[presentation.pk])

    client.force_login(owner)
    assert rebuild_url(presentation) in client.get(page).content.decode()
    client.force_login(viewer)
    assert rebuild_url(presentation) not in client.get(page).content.decode()


def test_the_petitions_page_links_a_failed_document_to_its_page(client, owner, signed_petition):
    presentation = presented(signed_petition, Presentation.Status.FAILED)
    client.force_login(owner)

    page = client.get(
        reverse("admin:petitions_petition_change", args=[signed_petition.pk])
    ).content.decode()

    page_url = reverse("admin:petitions_presentation_change", args=[presentation.pk])
    assert f'<a href="{page_url}">build it again</a>' in page
