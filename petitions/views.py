from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from uuid import UUID

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import verified
from config.cache import remembered

from . import abuse, charts, signing
from .access import staff_role
from .documents import paper_sheet_pdf
from .forms import SignatureForm
from .models import Petition, Presentation, Signature
from .tokens import check_token

log = logging.getLogger(__name__)

# Public pages and JSON: a cache in front may keep them a few seconds, and serve a stale copy
# while it fetches a fresh one. Signing and confirming: never kept. Both are set as whole
# headers: django.utils.cache parses and rebuilds them on every response, a noticeable part of
# what a viral petition's page views and sign POSTs cost.
PUBLIC_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
NEVER_CACHE_CONTROL = "max-age=0, no-cache, no-store, must-revalidate, private"


def never_cache(view):
    """As django.views.decorators.cache.never_cache, with its headers as fixed strings."""

    @functools.wraps(view)
    def uncached(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = NEVER_CACHE_CONTROL
        response["Expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"  # any date past
        return response

    return uncached


def public_cache(view):
    """As django.views.decorators.cache.cache_control(public=True, max_age=5, …), with the
    header as a fixed string."""

    @functools.wraps(view)
    def cacheable(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = PUBLIC_CACHE_CONTROL
        return response

    return cacheable


def get_public_petition(slug: str) -> Petition:
    return get_object_or_404(
        Petition.objects.public().select_related("campaign__organisation"), slug=slug
    )


_recent: dict[str, tuple[float, Petition]] = {}


def recent_public_petition(slug: str) -> Petition:
    """The petition as read at most PETITION_MEMO_SECONDS ago by this process: for the page and
    the sign form, which a viral crowd requests thousands of times a second. Nothing that
    counts relies on it: confirm() reads the petition again under its lock."""
    return remembered(
        _recent, slug, settings.PETITION_MEMO_SECONDS, lambda: get_public_petition(slug)
    )


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


_pages: dict[str, tuple[float, bytes]] = {}


def _page_bytes(key: str, petition: Petition) -> bytes:
    """The page for this key: as this process fetched it at most PETITION_MEMO_SECONDS ago (a
    viral petition's page views would each fetch 18 KB from the cache otherwise), else from the
    cache, else rendered and kept there for PAGE_CACHE_SECONDS."""

    def fetch() -> bytes:
        return cache.get_or_set(key, lambda: _rendered_page(petition), settings.PAGE_CACHE_SECONDS)

    return remembered(_pages, key, settings.PETITION_MEMO_SECONDS, fetch, 100)


def _rendered_page(petition: Petition) -> bytes:
    context = _page_context(petition, SignatureForm(petition=petition))
    return render_to_string("petitions/detail.html", context).encode()


def refuse_cross_site(view):
    """CSRF protection that needs no token, so that the page with the form can be cached for
    everyone: the Fetch Metadata and Origin headers every current browser sends with a POST say
    whether it comes from our own pages. A POST from another site's page is refused with 403
    before anything is recorded; one with neither header is not from a browser, so it carries
    no victim's cookies or address to abuse. (The approach of Go's CrossOriginProtection and
    OWASP's "verifying origin with standard headers".)"""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site in ("same-origin", "none"):
            return view(request, *args, **kwargs)
        origin = request.headers.get("Origin")
        if origin is not None and origin in {
            f"{request.scheme}://{request.get_host()}",
            *settings.CSRF_TRUSTED_ORIGINS,
        }:
            return view(request, *args, **kwargs)
        if fetch_site is not None or origin is not None:
            log.warning("refused a cross-site %s to %s", request.method, request.path)
            return render(request, "403_csrf.html", status=403)
        return view(request, *args, **kwargs)

    return csrf_exempt(checked)


# The largest honest sign POST is a few KB: the name (200 characters), town (100) and address
# (254), each character up to 4 bytes of UTF-8 sent as 12 percent-encoded, and the fields' names.
SIGN_BODY_MAX_BYTES = 16 * 1024
FORM_ENCODED = "application/x-www-form-urlencoded"


def _unreadable(request: HttpRequest) -> tuple[int, str] | None:
    """Why a sign POST's body is not read at all (status, message), or None: it is not what the
    form sends, or it is larger than any signature. Decided from the headers, before Django
    parses the body (request.POST would first spool a multipart upload to disk)."""
    if request.content_type != FORM_ENCODED:
        return 415, "Your details did not arrive as this form sends them. Please try again."
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # Django reads no body then
    if length > SIGN_BODY_MAX_BYTES:
        return 413, "Your details were longer than this form takes. Please try again."
    return None


@never_cache
@require_POST
@refuse_cross_site
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    petition = recent_public_petition(slug)
    if not petition.is_accepting_signatures:
        return _petition_page(request, petition, status=409)
    unreadable = _unreadable(request)
    if unreadable is not None:
        status, message = unreadable
        return _petition_page(request, petition, SignatureForm.refused(petition, message), status)
    form = SignatureForm.checking(request.POST, petition)
    if not form.is_valid():
        drawn = SignatureForm(request.POST, petition=petition)  # its own fields, to draw
        return _petition_page(request, petition, drawn, status=400)
    ip = abuse.client_ip(request)
    verdict = abuse.assess(ip, form.cleaned_data, petition.pk)
    try:
        signing.sign(
            petition,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            country=form.cleaned_data["country"],
            city=form.cleaned_data["city"],
            ip_network=abuse.network_of(ip),
            held_reason=verdict.held_reason,
            send_email=verdict.email,
        )
    except signing.PetitionClosed:  # closed between the check above and the write
        return _petition_page(request, petition, status=409)
    return HttpResponseRedirect(_slug_url("petitions:signed", petition.slug))


@functools.lru_cache(maxsize=1024)
def _slug_url(name: str, slug: str) -> str:
    """Where a sign or confirmation POST sends the browser; worked out once per petition, not
    for each POST."""
    return reverse(name, args=[slug])


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


@never_cache
@require_GET
def signed(request: HttpRequest, slug: str) -> HttpResponse:
    petition = get_public_petition(slug)
    return render(request, "petitions/signed.html", {"petition": petition})


def _check_link(uuid: UUID, token: str) -> None:
    """The token is the signature's id signed: checked before anything is read."""
    if not check_token(uuid, token):
        raise Http404("This confirmation link is not valid.")


def _signature_from_link(uuid: UUID, token: str) -> Signature:
    _check_link(uuid, token)
    signature = Signature.objects.select_related("petition__campaign").filter(uuid=uuid).first()
    if signature is None:
        raise Http404("This confirmation link is not valid.")
    return signature


def _signature_to_confirm(uuid: UUID, token: str) -> tuple[Signature, str]:
    """The signature of a confirmation link with only what confirming needs (its id and its
    petition's), and the petition's slug, in one statement built once: a viral petition's
    confirmations would each pay for the ORM building a query and three model instances
    otherwise."""
    _check_link(uuid, token)
    sql, as_uuid = _to_confirm_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [as_uuid(uuid, connection)])
        found = cursor.fetchone()
    if found is None:
        raise Http404("This confirmation link is not valid.")
    signature_id, petition_id, slug = found
    return Signature(pk=signature_id, petition_id=petition_id, uuid=uuid), slug


@functools.cache
def _to_confirm_statement() -> tuple[str, Callable]:
    q = connection.ops.quote_name
    signature, petition = q(Signature._meta.db_table), q(Petition._meta.db_table)
    sql = (
        f"SELECT s.{q('id')}, s.{q('petition_id')}, p.{q('slug')} FROM {signature} s "  # noqa: S608 - model names
        f"JOIN {petition} p ON p.{q('id')} = s.{q('petition_id')} WHERE s.{q('uuid')} = %s"
    )
    return sql, Signature._meta.get_field("uuid").get_db_prep_value


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, uuid: UUID, token: str) -> HttpResponse:
    """GET shows a button and changes nothing (mail scanners follow links); POST confirms."""
    if request.method == "POST":
        signature, slug = _signature_to_confirm(uuid, token)
        outcome = signing.confirm(signature)
        if outcome in (signing.Confirmation.CONFIRMED, signing.Confirmation.ALREADY_CONFIRMED):
            return HttpResponseRedirect(_slug_url("petitions:thanks", slug))
        signature = _signature_from_link(uuid, token)  # all of it, for the page that says why
        return render(
            request,
            "petitions/confirm.html",
            {"petition": signature.petition, "signature": signature, "outcome": outcome.value},
            status=409,
        )
    signature = _signature_from_link(uuid, token)
    return render(
        request,
        "petitions/confirm.html",
        {"petition": signature.petition, "signature": signature, "token": token},
    )


@never_cache
@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    petition = get_public_petition(slug)
    share_url = settings.SITE_URL + petition.get_absolute_url()
    return render(request, "petitions/thanks.html", {"petition": petition, "share_url": share_url})


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
    key = f"paper-sheet:{petition.pk}:{petition.updated_at.timestamp()}"
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
