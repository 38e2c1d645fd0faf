from __future__ import annotations

from datetime import date

from django.db import transaction

from accounts import audit
from petitions.models import PaperBatch, Petition
from petitions.models.delivery import count_paper


def update_paper_count(petition: Petition) -> int:
    """Set the petition's paper count from its batches. Saving or deleting a batch does this
    already (models/delivery.py); for a count that drifted, as recount() is for signatures."""
    return count_paper(petition)


def record_paper_batch(
    petition: Petition,
    *,
    count: int,
    received_on: date,
    location: str,
    note: str = "",
    user=None,
) -> PaperBatch:
    """A batch of paper signatures, recorded by user: counted and logged as it is saved."""
    with transaction.atomic(), audit.acting_as(user or audit.current_actor()):
        return PaperBatch.objects.create(
            petition=petition,
            count=count,
            received_on=received_on,
            location=location,
            note=note,
            recorded_by=user,
        )
