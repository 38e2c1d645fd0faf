"""The public, read-only JSON API: petitions, one petition, its count, and its OpenAPI description.

Everything here is public data (never a signer's name or address), open to any site (CORS) and
cacheable for a few seconds, so that a cache in front absorbs a crowd of watchers. Each answer is
in the language asked for (?lang=, the URL's prefix, or Accept-Language: config.language), which
it names; its page links lead to the pages in that language.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.db.models import Prefetch
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from config.language import requested_language
from config.web import PUBLIC_CACHE
from petitions.models import Petition, Presentation
from petitions.web import charts
from petitions.web.pages import get_public_petition, last_presentation, recent_public_petition

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 10**6
LIST_PARAMETERS = {"status", "campaign", "page", "page_size", "lang"}
LISTED_STATUSES = [
    Petition.Status.OPEN,
    Petition.Status.CLOSED,
    Petition.Status.PRESENTED,
    Petition.Status.ARCHIVED,
]
OPENAPI = Path(__file__).with_name("openapi.json")  # the limits above are written in it too


def public_api(view):
    """GET only, answering 405 to any other method, in the language asked for. CSRF checks are
    for requests that change something; these change nothing and set no cookie, so they are
    exempt (else a POST would get CSRF's 403 before the 405)."""

    @functools.wraps(view)
    def in_language(request: HttpRequest, *args, **kwargs) -> JsonResponse:
        try:
            language = requested_language(request)
        except ValueError as exc:
            return public_json({"error": str(exc)}, status=400)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        patch_vary_headers(response, ("Accept-Language",))
        return response

    return csrf_exempt(require_GET(in_language))


def public_json(data: dict, status: int = 200) -> JsonResponse:
    """Any site may read it (no cookies are involved), and caches may keep it a few seconds,
    serving a stale copy while they fetch a fresh one."""
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    patch_cache_control(response, **PUBLIC_CACHE)
    return response


def petition_data(request: HttpRequest, petition: Petition) -> dict:
    presentation = last_presentation(petition)
    url = request.build_absolute_uri
    return {
        "slug": petition.slug,
        "language": translation.get_language(),
        # The petition's own words: in `language` when it is translated into it, else in its
        # original (content_language); `languages` are those it can be read in, original first.
        "content_language": petition.shown_language(),
        "languages": petition.languages,
        "title": petition.title,
        "campaign": petition.campaign.slug,
        "campaign_title": petition.campaign.title,
        "organisation": petition.campaign.organisation.name,
        "target": petition.target,
        "status": petition.status,
        "accepting_signatures": petition.is_accepting_signatures,
        "goal": petition.current_goal,
        "milestones": petition.milestones,
        "signature_count": petition.total_count,
        "online_signature_count": petition.signature_count,
        "paper_signature_count": petition.paper_count,
        "opens_at": petition.opens_at,
        "closes_at": petition.closes_at,
        "presented": presentation
        and {
            "on": presentation.presented_on,
            "place": presentation.place,
            "recipient": presentation.recipient,
            "signature_count": presentation.total_count,
            "document_sha256": presentation.sha256,
        },
        "url": url(petition.get_absolute_url()),
        "json_url": url(reverse("petitions:detail_json", args=[petition.slug])),
        "count_url": url(reverse("petitions:count_json", args=[petition.slug])),
    }


def _public_petitions():
    ready = Presentation.objects.filter(status=Presentation.Status.READY)
    return (
        Petition.objects.public()
        .select_related("campaign__organisation")
        .prefetch_related(Prefetch("presentations", queryset=ready))
    )


@public_api
def detail_json(request: HttpRequest, slug: str) -> JsonResponse:
    petition = get_public_petition(slug)
    data = petition_data(request, petition)
    # The same figures as the petition page's chart, from the same cache entry.
    data["signatures_by_country"] = dict(charts.by_country(petition))
    return public_json(data)


@public_api
def count_json(request: HttpRequest, slug: str) -> JsonResponse:
    """The count alone, small enough for every open petition page to poll: the petition as this
    process read it lately (config.memos.PETITIONS), except when the browser asks past its
    caches (`Cache-Control: no-cache`, as live-count.js does for a page restored from the
    browser's cache): then read afresh, so that a supporter who has just confirmed and goes
    back to the page is shown their signature counted."""
    if "no-cache" in request.headers.get("Cache-Control", ""):
        petition = get_public_petition(slug)
    else:
        petition = recent_public_petition(slug)
    return public_json(
        {
            "slug": petition.slug,
            "signature_count": petition.total_count,
            "goal": petition.current_goal,
            "progress_percent": petition.progress_percent,
            "accepting_signatures": petition.is_accepting_signatures,
        }
    )


def _positive(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    if name not in request.GET:
        return default
    raw = request.GET[name]
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ValueError(
            _("%(name)s must be a whole number from 1 to %(maximum)d")
            % {"name": name, "maximum": maximum}
        )
    return int(raw)


@public_api
def petitions_json(request: HttpRequest) -> JsonResponse:
    """Public petitions, newest first; ?status=open|closed|presented|archived, ?campaign=<slug>,
    ?page=N and ?page_size=N (at most 100)."""
    try:
        unknown = sorted(set(request.GET) - LIST_PARAMETERS)
        if unknown:
            raise ValueError(
                _("unknown parameter '%(name)s'; known: %(known)s")
                % {"name": unknown[0], "known": ", ".join(sorted(LIST_PARAMETERS))}
            )
        page = _positive(request, "page", 1, MAX_PAGE)
        size = _positive(request, "page_size", PAGE_SIZE, MAX_PAGE_SIZE)
        status = request.GET.get("status")
        if status is not None and status not in LISTED_STATUSES:
            raise ValueError(
                _("status must be one of %(statuses)s") % {"statuses": ", ".join(LISTED_STATUSES)}
            )
    except ValueError as exc:
        return public_json({"error": str(exc)}, status=400)
    petitions = _public_petitions().order_by("-opens_at", "-pk")
    if status:
        petitions = petitions.filter(status=status)
    if campaign := request.GET.get("campaign", ""):
        petitions = petitions.filter(campaign__slug=campaign)
    total = petitions.count()
    start = (page - 1) * size
    results = [petition_data(request, p) for p in petitions[start : start + size]]

    def page_url(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    return public_json(
        {
            "count": total,
            "page": page,
            "page_size": size,
            "next": page_url(page + 1) if start + size < total else None,
            "previous": page_url(page - 1) if page > 1 and start < total + size else None,
            "results": results,
        }
    )


@public_api
def openapi_json(request: HttpRequest) -> JsonResponse:
    """The OpenAPI 3.0 description of this API: the file beside this module, which the
    schemathesis test checks the live API against (tests/petitions/test_api_schema.py)."""
    return public_json(json.loads(OPENAPI.read_text()))
