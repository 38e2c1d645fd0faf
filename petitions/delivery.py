"""State changes for delivering a petition: paper signatures, presenting it, staff exports.
Each runs in one transaction and is the only place that queues the matching Celery task."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts import audit

from . import counting
from .models import Export, PaperBatch, Petition, Presentation


class AlreadyPresented(Exception):
    pass


def update_paper_count(petition: Petition) -> int:
    """Set the petition's paper count from its batches (after any batch changed)."""
    with transaction.atomic():
        Petition.objects.select_for_update().filter(pk=petition.pk).exists()
        total = petition.paper_batches.aggregate(total=Sum("count"))["total"] or 0
        Petition.objects.filter(pk=petition.pk).update(paper_count=total)
    petition.paper_count = total
    return total


def record_paper_batch(
    petition: Petition,
    *,
    count: int,
    received_on: date,
    location: str,
    note: str = "",
    user=None,
) -> PaperBatch:
    with transaction.atomic():
        batch = PaperBatch.objects.create(
            petition=petition,
            count=count,
            received_on=received_on,
            location=location,
            note=note,
            recorded_by=user,
        )
        update_paper_count(petition)
        audit.record(
            user,
            "paper batch recorded",
            petition.campaign.organisation,
            petition,
            count=count,
            location=location,
        )
    return batch


def present_petition(
    petition: Petition,
    *,
    presented_on: date,
    place: str,
    recipient: str,
    presented_by: str,
    user=None,
) -> Presentation:
    """Close signing, record the presentation, and build its document after commit.

    The counting lock is held exclusively while the status changes and waiting tallies are
    folded, and confirm() reads the status under that lock, so the count presented is exact and
    no signature is counted after this commits."""
    with transaction.atomic():
        counting.lock(petition.pk, exclusive=True)
        counting.fold(petition.pk)
        locked = Petition.objects.select_for_update().get(pk=petition.pk)
        if locked.status == Petition.Status.PRESENTED:
            raise AlreadyPresented(f"{locked} was already presented.")
        now = timezone.now()
        closes_at = locked.closes_at if locked.closes_at and locked.closes_at < now else now
        Petition.objects.filter(pk=locked.pk).update(
            status=Petition.Status.PRESENTED, closes_at=closes_at
        )
        presentation = Presentation.objects.create(
            petition=locked,
            presented_on=presented_on,
            place=place,
            recipient=recipient,
            presented_by=presented_by,
            online_count=locked.signature_count,
            paper_count=locked.paper_count,
            total_count=locked.total_count,
            created_by=user,
        )
        audit.record(
            user,
            "petition presented",
            locked.campaign.organisation,
            locked,
            presentation=presentation.pk,
            place=place,
            recipient=recipient,
            total=locked.total_count,
        )
        transaction.on_commit(lambda: _queue("build_presentation", presentation.pk))
    petition.refresh_from_db()
    return presentation


def request_export(petition: Petition, *, format: str, include_email: bool, user=None) -> Export:
    """Queue an export to be built by Celery; staff download it when it is done."""
    with transaction.atomic():
        export = Export.objects.create(
            petition=petition,
            format=format,
            include_email=include_email and format == Export.Format.CSV,
            requested_by=user,
        )
        transaction.on_commit(lambda: _queue("run_export", export.pk))
    return export


def _queue(task_name: str, object_id: int) -> None:
    from . import tasks

    getattr(tasks, task_name).delay(object_id)
