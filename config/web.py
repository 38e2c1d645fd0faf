from __future__ import annotations

import functools
import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt

from config import memos

log = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(request: HttpRequest) -> str:
    """The address the request came from (as parse_ip() gives it, or "" if none): REMOTE_ADDR,
    or, when that is a trusted proxy, the last address in X-Forwarded-For that is not one of
    ours."""
    remote = parse_ip(request.META.get("REMOTE_ADDR", ""))
    trusted = settings.TRUSTED_PROXIES
    if not trusted or not _within(remote, trusted):
        if "HTTP_X_FORWARDED_FOR" in request.META and remote is not None and remote.is_private:
            _warn_untrusted_proxy(str(remote))
        return _text(remote)
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        if not entry.strip():
            continue
        address = parse_ip(entry)
        if not _within(address, trusted):
            return _text(address or remote)
    return _text(remote)


def client_for_limits(request: HttpRequest) -> str:
    """The client as the login lockout counts it (django-axes' AXES_CLIENT_IP_CALLABLE): see
    limited_address()."""
    return limited_address(client_ip(request))


def limited_address(ip: str) -> str:
    """What one client is to the limits: an IPv4 address itself, an IPv6 address's /64 (its
    first address). A host is given a whole /64 and picks addresses in it at will, so keying on
    the address would let it escape every limit by rotating."""
    parsed = parse_ip(ip)
    if parsed is None or parsed.version == 4:
        return _text(parsed)
    return str(ipaddress.IPv6Address(int(parsed) >> 64 << 64))


def parse_ip(text: str) -> Address | None:
    """An address as a server or proxy writes it, or None: 203.0.113.7, 203.0.113.7:5678,
    2001:db8::1, [2001:db8::1] or [2001:db8::1]:443, with spaces around. An IPv4 address
    mapped into IPv6 (::ffff:10.1.2.3, what a dual-stack socket reports) is the IPv4 address,
    and an IPv6 zone (%eth0) is dropped."""
    text = text.strip()
    if len(text) > 64:
        return None  # no address, and not kept
    # A sign POST asks up to four times about one address.
    return memos.CLIENT_ADDRESSES.get(text, lambda: _parsed(text))


def _parsed(text: str) -> Address | None:
    if text.startswith("["):
        text, bracket, port = text[1:].partition("]")
        if not bracket or not (port == "" or (port[:1] == ":" and port[1:].isdigit())):
            return None
    elif text.count(":") == 1:  # IPv4 with a port; an IPv6 address has two colons or more
        text, _, port = text.partition(":")
        if not port.isdigit():
            return None
    try:
        ip = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _text(ip: Address | None) -> str:
    return "" if ip is None else str(ip)


def _warn_untrusted_proxy(remote: str) -> None:
    """Once per process and proxy: every supporter would seem to come from the proxy, and a
    busy petition's signatures would be held as one burst."""
    if memos.PROXIES_WARNED_OF.fresh(remote):
        return
    memos.PROXIES_WARNED_OF.keep(remote)
    log.warning(
        "X-Forwarded-For ignored: the request came from %s, which is not in TRUSTED_PROXIES; "
        "set it if that is your proxy",
        remote,
    )


def _within(ip: Address | None, networks) -> bool:
    return ip is not None and any(ip in network for network in networks)


def network_of(address: str) -> str:
    """What a signature and the audit log keep of an address: 203.0.113.0/24, 2001:db8:1::/48,
    or ""."""
    ip = parse_ip(address)
    if ip is None:
        return ""
    if ip.version == 4:
        return f"{ipaddress.IPv4Address(int(ip) & 0xFFFF_FF00)}/24"
    return f"{ipaddress.IPv6Address(int(ip) >> 80 << 80)}/48"


# Public pages and JSON: a cache in front may keep them a few seconds, and serve a stale copy
# while it fetches a fresh one (patch_cache_control's arguments). Signing and confirming are
# never kept (Django's never_cache).
PUBLIC_CACHE = {"public": True, "max_age": 5, "stale_while_revalidate": 30}

public_cache = cache_control(**PUBLIC_CACHE)


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
