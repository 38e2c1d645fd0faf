from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config import web
from config.web import refuse_cross_site
from petitions.models import Signature
from petitions.services import abuse, signing
from petitions.tokens import check_token
from petitions.web.forms import SignatureForm
from petitions.web.pages import _petition_page, get_public_petition, recent_public_petition

# The largest honest sign POST is a few KB: the name (200 characters), town (100) and address
# (254), each character up to 4 bytes of UTF-8 sent as 12 percent-encoded, and the fields' names.
SIGN_BODY_MAX_BYTES = 16 * 1024


FORM_ENCODED = "application/x-www-form-urlencoded"


def _unreadable(request: HttpRequest) -> tuple[int, str] | None:
    """Why a sign POST's body is not read at all (status, message), or None: it is not what the
    form sends, its length is not a number (Django would fail reading it), or it is larger than
    any signature. Decided from the headers, before Django parses the body (request.POST would
    first spool a multipart upload to disk)."""
    if request.content_type != FORM_ENCODED:
        return 415, _("Your details did not arrive as this form sends them. Please try again.")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isascii() or not length.isdigit():  # gunicorn refuses these; runserver not
        return 400, _("Your details did not arrive as this form sends them. Please try again.")
    if int(length) > SIGN_BODY_MAX_BYTES:
        return 413, _("Your details were longer than this form takes. Please try again.")
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
    form = SignatureForm(request.POST, petition=petition)
    if not form.is_valid():
        return _petition_page(request, petition, form, status=400)
    ip = web.client_ip(request)
    verdict = abuse.assess(ip, form.cleaned_data, petition.pk)
    try:
        signing.sign(
            petition,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            country=form.cleaned_data["country"],
            city=form.cleaned_data["city"],
            ip_network=web.network_of(ip),
            held_reason=verdict.held_reason,
            send_email=verdict.email,
            language=translation.get_language(),
        )
    except signing.PetitionClosed:  # closed between the check above and the write
        return _petition_page(request, petition, status=409)
    return HttpResponseRedirect(reverse("petitions:signed", args=[petition.slug]))


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


def _signature_to_confirm(uuid: UUID, token: str) -> Signature:
    """The signature of a confirmation link with only what confirming needs: its id, and its
    petition's id and slug (the whole rows are read only for the page that explains a refusal)."""
    _check_link(uuid, token)
    try:
        return Signature.objects.select_related("petition").only("petition__slug").get(uuid=uuid)
    except Signature.DoesNotExist:
        raise Http404("This confirmation link is not valid.") from None


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, uuid: UUID, token: str) -> HttpResponse:
    """GET shows a button and changes nothing (mail scanners follow links); POST confirms."""
    if request.method == "POST":
        signature = _signature_to_confirm(uuid, token)
        outcome = signing.confirm(signature)
        if outcome in (signing.Confirmation.CONFIRMED, signing.Confirmation.ALREADY_CONFIRMED):
            return HttpResponseRedirect(reverse("petitions:thanks", args=[signature.petition.slug]))
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
