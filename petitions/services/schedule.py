"""Petitions open and close on their own schedule (opens_at, closes_at), checked each minute."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import audit
from petitions.models import Petition
from petitions.services import counting


def advance_petitions() -> int:
    """Open scheduled petitions whose opening time has come and close open ones whose closing
    time has passed, each in its own transaction under the counting lock (so that closing waits
    for confirmations in flight), and audited; return how many changed."""
    now = timezone.now()
    moves = [
        (Petition.Status.SCHEDULED, Petition.Status.OPEN, Q(opens_at__lte=now), "opened"),
        (Petition.Status.OPEN, Petition.Status.CLOSED, Q(closes_at__lte=now), "closed"),
    ]
    changed = 0
    for before, after, due, verb in moves:
        for pk in Petition.objects.filter(due, status=before).values_list("pk", flat=True):
            with transaction.atomic():
                counting.lock(pk, exclusive=True)
                moved = Petition.objects.filter(due, pk=pk, status=before).update(
                    status=after, updated_at=now
                )
                if moved:
                    changed += 1
                    petition = Petition.objects.select_related("campaign__organisation").get(pk=pk)
                    audit.record(
                        None, f"petition {verb} on schedule", petition.campaign.organisation,
                        petition,
                    )  # fmt: skip
    return changed
