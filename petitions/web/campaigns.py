from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from campaigns.models import Campaign
from config.web import public_cache
from petitions.models import Petition


def _public_petitions() -> Prefetch:
    return Prefetch("petitions", queryset=Petition.objects.listed().order_by("-opens_at", "slug"))


@public_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    campaigns = (
        Campaign.objects.live().select_related("organisation").prefetch_related(_public_petitions())
    )
    return render(request, "campaigns/home.html", {"campaigns": campaigns})


@public_cache
@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(
        Campaign.objects.public()
        .select_related("organisation")
        .prefetch_related(_public_petitions(), "stories", "events", "resources"),
        slug=slug,
    )
    return render(request, "campaigns/detail.html", {"campaign": campaign})


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/privacy.html")
