"""Keeping bots and bursts from inflating a petition, without teaching them anything.

A signature that looks wrong is not refused: it is saved *held*, with the reason, answered
exactly like any other, and not counted until staff release it (the UK Parliament's site told
bots which rule they broke). Held for now:

- the honeypot: a form field people never see ("website"); a bot that fills it gets no email;
- the block list (SigningRule, kept by superusers): a network, an email domain or an address;
  the allow list exempts from everything below (a march's shared wifi);
- a known throwaway email domain (the disposable-email-domains list);
- a burst from one address: more than SIGNING_LIMIT_PER_IP signatures from one client address
  within SIGNING_LIMIT_WINDOW_SECONDS (counted in the cache, Redis in production, under a keyed
  hash of the address, never the address itself). SIGNING_RATE_LIMITS=0 turns this off for load
  tests run from one address.

The client address comes from X-Forwarded-For only when the request came through one of
TRUSTED_PROXIES; a signature keeps only its network (/24 for IPv4, /48 for IPv6).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time

from disposable_email_domains import blocklist as disposable_domains
from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from .models import Signature, SigningRule

log = logging.getLogger(__name__)

HONEYPOT = "website"


def client_ip(request: HttpRequest) -> str:
    """The address the request came from: REMOTE_ADDR, or, when that is a trusted proxy, the
    last address in X-Forwarded-For that is not one of ours."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXIES
    if not trusted or not _within(remote, trusted):
        if "HTTP_X_FORWARDED_FOR" in request.META and _private(remote):
            _warn_untrusted_proxy(remote)
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed(forwarded):
        if address and not _within(address, trusted):
            return address if _valid(address) else remote
    return remote


def _private(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_private
    except ValueError:
        return False


@functools.cache
def _warn_untrusted_proxy(remote: str) -> None:
    """Once per process and proxy: every supporter would seem to come from the proxy, and a
    busy petition's signatures would be held as one burst."""
    log.warning(
        "X-Forwarded-For ignored: the request came from %s, which is not in TRUSTED_PROXIES; "
        "set it if that is your proxy",
        remote,
    )


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _within(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def network_of(address: str) -> str:
    """What a signature keeps of its address: 203.0.113.0/24, 2001:db8:1::/48, or ""."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def held_reason(request: HttpRequest, form_data) -> str:
    """Why this signature should be held, or "" to count it normally."""
    if form_data.get(HONEYPOT):
        return "honeypot"
    address = Signature.canonical_email(form_data.get("email", ""))
    domain = address.rpartition("@")[2]
    ip = client_ip(request)
    rule = matching_rule(ip, domain, address)
    if rule is not None:
        if rule.kind == SigningRule.Kind.ALLOW:
            return ""
        return f"blocked: {rule}"[:100]
    if domain in disposable_domains:
        return "a disposable address"
    if settings.SIGNING_RATE_LIMITS:
        window, limit = settings.SIGNING_LIMIT_WINDOW_SECONDS, settings.SIGNING_LIMIT_PER_IP
        if _hits(f"signing-ip:{_key(ip)}", window) > limit:
            return f"more than {limit} signatures from one address in {window // 60} minutes"
    return ""


RULES_KEY = "signing-rules"
# How long a process goes on using the rules it read before it asks the cache again: a rule a
# superuser adds or removes holds everywhere within this many seconds (at once in the process
# that saved it), and a viral petition's sign POSTs do not each cost a cache round trip.
RULES_MEMO_SECONDS = 5
_memo: tuple[float, list] | None = None


def rules() -> list[tuple[SigningRule, object]]:
    """The allow and block lists, allow rules first, each with its network parsed; kept in the
    cache for a minute and by each process for RULES_MEMO_SECONDS (both dropped when a rule
    changes)."""
    global _memo
    now = time.monotonic()
    if _memo is not None and now - _memo[0] < RULES_MEMO_SECONDS:
        return _memo[1]
    found = cache.get(RULES_KEY)
    if found is None:
        ordered = sorted(SigningRule.objects.all(), key=lambda r: r.kind != SigningRule.Kind.ALLOW)
        found = [
            (rule, ipaddress.ip_network(rule.network, strict=False) if rule.network else None)
            for rule in ordered
        ]
        cache.set(RULES_KEY, found, 60)
    _memo = (now, found)
    return found


def matching_rule(ip: str, domain: str, address: str) -> SigningRule | None:
    """The rule this signature falls under, allow rules first."""
    try:
        client = ipaddress.ip_address(ip)
    except ValueError:
        client = None
    for rule, network in rules():
        if network is not None:
            if client is not None and client in network:
                return rule
        elif rule.domain and (domain == rule.domain or domain.endswith("." + rule.domain)):
            return rule
        elif rule.address and address == rule.address:
            return rule
    return None


def _key(address: str) -> str:
    return salted_hmac("petitions.abuse", address).hexdigest()[:32]


def _hits(key: str, window: int) -> int:
    """Count one more hit in the current window. A cache that is down counts nothing: signing
    goes on, unlimited, rather than failing."""
    try:
        try:
            return cache.incr(key)
        except ValueError:
            if cache.add(key, 1, timeout=window):
                return 1
            return cache.incr(key)
    except Exception:
        log.warning("rate limit cache unavailable; not limiting")
        return 0


@receiver([post_save, post_delete], sender=SigningRule)
def forget_rules(**kwargs) -> None:
    """Read the rules afresh: here at once, in other processes within RULES_MEMO_SECONDS."""
    global _memo
    _memo = None
    cache.delete(RULES_KEY)
