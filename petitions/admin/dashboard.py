"""The campaign dashboard: how each of a campaign's petitions is doing, for its staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Q, Sum

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
    petitions = list(campaign.petitions.order_by("-opens_at", "slug"))
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    today = dict(
        Petition.objects.filter(campaign=campaign, hourly_counts__hour__gte=midnight)
        .values_list("pk")
        .annotate(n=Sum("hourly_counts__count"))
    )
    live = Signature.objects.filter(
        petition__campaign=campaign,
        status__in=[Signature.Status.PENDING, Signature.Status.CONFIRMED],
    )
    by_petition = {
        row["petition_id"]: row
        for row in live.values("petition_id").annotate(
            pending=Count("pk", filter=Q(status=Signature.Status.PENDING)),
            confirmed=Count("pk", filter=Q(status=Signature.Status.CONFIRMED)),
            held=Count("pk", filter=~Q(held_reason="")),
        )
    }
    rows = []
    for petition in petitions:
        counts = by_petition.get(petition.pk, {"pending": 0, "confirmed": 0, "held": 0})
        made = counts["pending"] + counts["confirmed"]
        rows.append(
            PetitionFigures(
                petition=petition,
                today=today.get(petition.pk) or 0,
                pending=counts["pending"],
                held=counts["held"],
                confirmation_rate=round(100 * counts["confirmed"] / made) if made else None,
                timeline=charts.timeline_svg(petition),
                countries=charts.countries_svg(petition),
            )
        )
    latest = (
        Signature.objects.filter(petition__campaign=campaign)
        .select_related("petition")
        .order_by("-created_at")[:20]
    )
    return {
        "rows": rows,
        "total": sum(p.total_count for p in petitions),
        "today": sum(row.today for row in rows),
        "pending": sum(row.pending for row in rows),
        "held": sum(row.held for row in rows),
        "latest": latest,
    }
