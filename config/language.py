"""Which language a visitor reads the site in.

The language is in the URL: English pages are where they have always been (/petitions/…),
the others under their code (/ko/petitions/…, /zh-hans/…, /ja/…; config/urls.py, Django's
i18n_patterns). A page at an English URL goes, on a GET, to the same page in the visitor's
language when that is another one: the language they chose with the switcher (a cookie), or on
a first visit the one their browser asks for (Accept-Language). The switcher's links set that
cookie and lead to the same page in the chosen language. The staff's admin has one URL for all
languages and is shown in the same visitor's language. The JSON API answers in the language
asked by `?lang=`, the URL or Accept-Language (requested_language()).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import get_script_prefix, is_valid_path, reverse, translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

CODES = [code for code, _ in settings.LANGUAGES]
# Each language's name in the page's language, for sentences ("shown in English"); the switcher
# names each in its own (settings.LANGUAGES). Ours, not Django's: its Japanese says 英語(米国).
NAMES = {
    "en": gettext_lazy("English"),
    "ko": gettext_lazy("Korean"),
    "zh-hans": gettext_lazy("Simplified Chinese"),
    "ja": gettext_lazy("Japanese"),
}

# Machine-read answers are never redirected: they say their language (requested_language()).
_NOT_PAGES = (".json", ".pdf")


def active_language() -> str:
    """The active language, one of the site's (English outside a request that chose one)."""
    language = translation.get_language()
    return language if language in CODES else settings.LANGUAGE_CODE


def requested_language(request: HttpRequest) -> str:
    """For the JSON API: ?lang= (one of LANGUAGES' codes exactly, else ValueError), else the
    URL's language prefix, else the visitor's (the cookie, Accept-Language, English)."""
    if "lang" in request.GET:
        if request.GET["lang"] not in CODES:
            raise ValueError(_("lang must be one of %(codes)s") % {"codes": ", ".join(CODES)})
        return request.GET["lang"]
    return translation.get_language_from_path(
        request.path_info
    ) or translation.get_language_from_request(request)


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (the URL's language), and a GET of a page at an English URL
    by a visitor whose language is another goes to that page in their language."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        super().process_request(request)
        if translation.get_language_from_path(request.path_info):
            return None
        # The switcher's cookie, else the first of Accept-Language the site has, else English.
        wanted = translation.get_language_from_request(request)
        if wanted == settings.LANGUAGE_CODE:
            return None
        path = f"/{wanted}{request.path_info}"
        with translation.override(wanted):  # a path resolves in its own language only
            translated_page = is_valid_path(path, getattr(request, "urlconf", None))
        if not translated_page:  # the staff's admin: in their language, at its one URL
            translation.activate(wanted)
            request.LANGUAGE_CODE = wanted
            return None
        if request.method not in ("GET", "HEAD") or request.path_info.endswith(_NOT_PAGES):
            return None
        query = request.META.get("QUERY_STRING", "")
        location = get_script_prefix().rstrip("/") + path + (f"?{query}" if query else "")
        redirect = HttpResponseRedirect(location)
        patch_vary_headers(redirect, ("Accept-Language", "Cookie"))
        return redirect

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        if not translation.get_language_from_path(request.path_info):
            # The same URL redirects some visitors elsewhere, by their cookie or browser.
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response


def path_in(path: str, code: str) -> str:
    """path (a site path, with or without a language prefix) in the language code; a path that
    is not one of the site's pages as it is."""
    with translation.override(translation.get_language_from_path(path) or settings.LANGUAGE_CODE):
        return translate_url(path, code)


def alternates(path: str) -> list[dict[str, str]]:
    """The page at path in every language: code, name (in its own language), url (absolute, for
    hreflang), and the switcher's link (which remembers the choice)."""
    return [
        {
            "code": code,
            "name": name,
            "url": settings.SITE_URL + path_in(path, code),
            "choose": reverse("choose_language", args=[code]) + "?" + urlencode({"next": path}),
        }
        for code, name in settings.LANGUAGES
    ]


@require_GET
def choose_language(request: HttpRequest, code: str) -> HttpResponse:
    """The switcher: remember the language chosen and show the page it was chosen on (next, a
    path on this site) in that language."""
    if code not in CODES:
        return HttpResponse("No such language.", status=404, content_type="text/plain")
    next_path = request.GET.get("next", "/")
    if not next_path.startswith("/") or not url_has_allowed_host_and_scheme(
        next_path, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_path = "/"
    response = HttpResponseRedirect(path_in(next_path, code))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=request.is_secure(),
        httponly=True,
    )
    return response


register = template.Library()


@register.simple_tag(takes_context=True)
def language_alternates(context) -> list[dict[str, str]]:
    """alternates() of the page being rendered: the request's path, or page_path for a page
    rendered once for everyone (the petition page)."""
    request = context.get("request")
    path = context.get("page_path") or (request.path if request is not None else "/")
    return alternates(path)


def _each(things) -> list:
    found = []
    for thing in things:
        if hasattr(thing, "shown_language"):
            found.append(thing)
        elif thing:  # a list or queryset of them
            found.extend(thing)
    return found


@register.filter
def lang_if_other(content) -> str:
    """` lang="…"` on an element whose content (a campaign, a petition, a demand…) is shown in a
    language other than the page's: its original, not yet translated into the page's."""
    shown = content.shown_language()
    return "" if shown == active_language() else format_html(' lang="{}"', shown)


@register.simple_tag
def untranslated(*things) -> dict | None:
    """For the note on a page whose content (objects, or lists of them) is not all translated
    into the page's language: that language's name and those of the originals shown instead."""
    active = active_language()
    originals = []
    for content in _each(things):
        shown = content.shown_language()
        if shown != active and shown not in originals:
            originals.append(shown)
    if not originals:
        return None
    return {"language": NAMES[active], "originals": ", ".join(str(NAMES[c]) for c in originals)}
