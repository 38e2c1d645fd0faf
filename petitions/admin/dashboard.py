"""The campaign dashboard: how each of a campaign's petitions is doing, for its staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Sum

from campaigns.models import Campaign
from petitions.models import Petition, Signature
from petitions.web import charts


@dataclass
class PetitionFigures:
    petition: Petition
    today: int  # confirmed since midnight UTC
    pending: int
    held: int
    confirmation_rate: int | None  # per cent of signatures that are confirmed, of those not removed
    timeline: str
    countries: str


def figures(campaign: Campaign) -> dict:
    """The dashboard's figures, from the kept counts and from indexes that hold only what is
    counted: the pending signatures of each petition (the (petition, status, …) index) and the
    held ones (the partial index signature_held_idx). Nothing reads every signature, so the
    page costs about the same at a million signatures as at a thousand."""
    petitions = list(campaign.petitions.order_by("-opens_at", "slug"))
    ids = [petition.pk for petition in petitions]
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    today = dict(
        Petition.objects.filter(pk__in=ids, hourly_counts__hour__gte=midnight)
        .values_list("pk")
        .annotate(n=Sum("hourly_counts__count"))
    )
    signatures = Signature.objects.filter(petition__in=ids)
    pending = dict(
        signatures.filter(status=Signature.Status.PENDING)
        .values_list("petition")
        .annotate(n=Count("pk"))
        .order_by()
    )
    held = {}  # {petition id: {status: held signatures}}
    for petition_id, status, n in (
        signatures.exclude(held_reason="")
        .filter(status__in=[Signature.Status.PENDING, Signature.Status.CONFIRMED])
        .values_list("petition", "status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        held.setdefault(petition_id, {})[status] = n
    rows = []
    for petition in petitions:
        held_here = held.get(petition.pk, {})
        # Confirmed: those counted, and those held back from the count.
        confirmed = petition.signature_count + held_here.get(Signature.Status.CONFIRMED, 0)
        made = confirmed + pending.get(petition.pk, 0)
        rows.append(
            PetitionFigures(
                petition=petition,
                today=today.get(petition.pk) or 0,
                pending=pending.get(petition.pk, 0),
                held=sum(held_here.values()),
                confirmation_rate=round(100 * confirmed / made) if made else None,
                timeline=charts.timeline_svg(petition),
                countries=charts.countries_svg(petition),
            )
        )
    latest = signatures.select_related("petition").order_by("-created_at")[:20]
    return {
        "rows": rows,
        "total": sum(p.total_count for p in petitions),
        "today": sum(row.today for row in rows),
        "pending": sum(row.pending for row in rows),
        "held": sum(row.held for row in rows),
        "latest": latest,
    }
