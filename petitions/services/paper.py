from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Sum

from accounts import audit
from petitions.models import PaperBatch, Petition


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
