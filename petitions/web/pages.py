from __future__ import annotations

import logging

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from accounts.roles import verified
from config import memos
from config.web import public_cache
from petitions.admin.access import staff_role
from petitions.documents.pdf import paper_sheet_pdf
from petitions.models import Petition, Presentation
from petitions.web import charts
from petitions.web.forms import SignatureForm

log = logging.getLogger(__name__)


def get_public_petition(slug: str) -> Petition:
    return get_object_or_404(
        Petition.objects.public().select_related("campaign__organisation"), slug=slug
    )


def recent_public_petition(slug: str) -> Petition:
    """The petition as this process read it lately (config.memos.PETITIONS): for the page and
    the sign form, which a viral crowd requests thousands of times a second. Nothing that
    counts relies on it: confirm() reads the petition again under its lock."""
    return memos.PETITIONS.get(slug, lambda: get_public_petition(slug))


def _petition_page(
    request: HttpRequest,
    petition: Petition,
    form: SignatureForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The petition page as the answer to a sign POST (with its errors, or closed meanwhile)."""
    context = _page_context(petition, form or SignatureForm(petition=petition))
    return render(request, "petitions/detail.html", context, status=status)


def _page_context(petition: Petition, form: SignatureForm) -> dict:
    return {
        "petition": petition,
        "page_path": petition.get_absolute_url(),  # the language links' page, for every answer
        "campaign": petition.campaign,
        "demands": petition.demands.all(),
        "presentation": last_presentation(petition),
        "timeline_chart": charts.timeline_svg(petition),
        "countries_chart": charts.countries_svg(petition),
        "world_map": charts.world_map_svg(petition),
        "form": form,
    }


@require_GET
@public_cache
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The same bytes for every visitor, so that the page can be cached here and by browsers and
    proxies while a petition goes viral: the sign form carries no CSRF token (see
    refuse_cross_site), and the page sets no cookie. It is rendered again when the count or the
    petition changes, and at least every PAGE_CACHE_SECONDS."""
    petition = recent_public_petition(slug)
    key = (
        f"petition-page:{petition.pk}:{petition.updated_at.timestamp()}:{petition.total_count}:"
        f"{petition.is_accepting_signatures}"
    )
    return HttpResponse(_page_bytes(key, petition))


def _page_bytes(key: str, petition: Petition) -> bytes:
    """The page for this key in the visitor's language: as this process fetched it lately
    (config.memos.PAGES: a viral petition's page views would each fetch 18 KB from the cache
    otherwise), else from the cache, else rendered and kept there for PAGE_CACHE_SECONDS."""
    key = f"{key}:{get_language()}"

    def fetch() -> bytes:
        return cache.get_or_set(key, lambda: _rendered_page(petition), settings.PAGE_CACHE_SECONDS)

    return memos.PAGES.get(key, fetch)


def _rendered_page(petition: Petition) -> bytes:
    context = _page_context(petition, SignatureForm(petition=petition))
    return render_to_string("petitions/detail.html", context).encode()


@never_cache
@require_GET
def preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition page as it will look, for its organisation's staff, whatever its status (a
    draft, a scheduled petition); never cached, never indexed; 404 for anyone else."""
    if not (request.user.is_authenticated and verified(request.user)):  # password, second factor
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    petition = get_object_or_404(
        Petition.objects.select_related("campaign__organisation"), slug=slug
    )
    if not staff_role(request.user, petition.campaign.organisation_id):
        raise Http404("No such petition.")
    context = {**_page_context(petition, SignatureForm(petition=petition)), "preview": True}
    response = render(request, "petitions/detail.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


def last_presentation(petition: Petition) -> Presentation | None:
    """The newest presentation with its document built (from prefetched rows, if any), whatever
    listing state the petition has taken since (archived, say)."""
    if petition.status not in Petition.SEALED_STATUSES:
        return None
    ready = [p for p in petition.presentations.all() if p.status == Presentation.Status.READY]
    return ready[0] if ready else None


@require_GET
def paper_sheet(request: HttpRequest, slug: str) -> HttpResponse:
    """A blank sheet for collecting signatures at events; it holds no one's data."""
    petition = get_public_petition(slug)
    if not petition.is_accepting_signatures:
        raise Http404("This petition no longer takes signatures.")
    key = f"paper-sheet:{petition.pk}:{petition.updated_at.timestamp()}:{get_language()}"
    pdf = cache.get(key)
    if pdf is None:
        pdf = paper_sheet_pdf(petition)
        cache.set(key, pdf, 3600)
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{petition.slug}-paper-sheet.pdf"'},
    )


@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@require_GET
@public_cache
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """A small card partner sites show in an iframe: title, live count, progress and a link to
    sign here. It sets no cookie and may be framed by any site."""
    petition = get_public_petition(slug)
    sign_url = settings.SITE_URL + petition.get_absolute_url()
    return render(request, "petitions/embed.html", {"petition": petition, "sign_url": sign_url})
