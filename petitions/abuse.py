"""Keeping bots and bursts from inflating a petition, without teaching them anything.

A signature that looks wrong is not refused: it is saved *held*, with the reason, answered
exactly like any other, and not counted until staff release it (the UK Parliament's site told
bots which rule they broke). Held for now:

- the honeypot: a form field people never see ("website"); a bot that fills it gets no email;
- the block list (SigningRule, kept by superusers): a network, an email domain or an address;
  the allow list exempts from everything below (a march's shared wifi);
- a known throwaway email domain (the disposable-email-domains list);
- a burst: more signatures within a window than a limit allows (SigningLimit, kept by
  superusers) from one client address, from one email domain (big webmail providers excepted)
  or to one petition; counted in the cache (Redis in production, one round trip for them all),
  under a keyed hash of the address or domain, never the thing itself. SIGNING_RATE_LIMITS=0
  turns the limits off for load tests run from one address.

The client address comes from X-Forwarded-For only when the request came through one of
TRUSTED_PROXIES; a signature keeps only its network (/24 for IPv4, /48 for IPv6). The limits
count an IPv6 client by its /64, which one host can fill with addresses of its own.
"""

from __future__ import annotations

import functools
import ipaddress
import logging

from disposable_email_domains import blocklist as disposable_domains
from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from config.cache import remembered

from .models import Signature, SigningLimit, SigningRule

log = logging.getLogger(__name__)

HONEYPOT = "website"


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


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> Address | None:
    """An address as a server or proxy writes it, or None: 203.0.113.7, 203.0.113.7:5678,
    2001:db8::1, [2001:db8::1] or [2001:db8::1]:443, with spaces around. An IPv4 address
    mapped into IPv6 (::ffff:10.1.2.3, what a dual-stack socket reports) is the IPv4 address,
    and an IPv6 zone (%eth0) is dropped."""
    text = text.strip()
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


@functools.cache
def _warn_untrusted_proxy(remote: str) -> None:
    """Once per process and proxy: every supporter would seem to come from the proxy, and a
    busy petition's signatures would be held as one burst."""
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


def held_reason(ip: str, form_data, petition_id: int) -> str:
    """Why this signature to the petition, from the client address ip (client_ip()), should be
    held, or "" to count it normally."""
    if form_data.get(HONEYPOT):
        return "honeypot"
    address = Signature.canonical_email(form_data.get("email", ""))
    domain = address.rpartition("@")[2]
    rule = matching_rule(ip, domain, address)
    if rule is not None:
        if rule.kind == SigningRule.Kind.ALLOW:
            return ""
        return f"blocked: {rule}"[:100]
    if domain in disposable_domains:
        return "a disposable address"
    if settings.SIGNING_RATE_LIMITS:
        return _over_a_limit(ip, domain, petition_id)
    return ""


def _over_a_limit(ip: str, domain: str, petition_id: int) -> str:
    """Count this signature against each limit in force (SigningLimit), in one round trip to
    Redis; the reason for the first one it goes over, or ""."""
    counters, reasons = [], []
    for scope, limit, minutes in limits():
        if scope == SigningLimit.Scope.ADDRESS:
            key, whence = f"signing-ip:{_key(limited_address(ip))}", "from one address"
        elif scope == SigningLimit.Scope.DOMAIN:
            if domain in WEBMAIL_DOMAINS:
                continue
            key, whence = f"signing-domain:{_key(domain)}", "from one email domain"
        else:
            key, whence = f"signing-petition:{petition_id}", "to this petition"
        counters.append((key, minutes * 60))
        window = f"{minutes} minutes" if minutes != 1 else "a minute"
        reasons.append((limit, f"more than {limit} signatures {whence} in {window}"))
    for hits, (limit, reason) in zip(_hits(counters), reasons, strict=True):
        if hits > limit:
            return reason
    return ""


# Where thousands of unrelated people have their address: never one sender's burst. (A limit
# per domain is for an organisation's own mail server, or a bot's.)
WEBMAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk hotmail.fr live.com msn.com
    yahoo.com yahoo.co.uk yahoo.co.jp yahoo.fr ymail.com icloud.com me.com mac.com aol.com
    proton.me protonmail.com pm.me tutanota.com fastmail.com zoho.com gmx.de gmx.net gmx.at
    web.de t-online.de mail.ru yandex.ru ya.ru naver.com daum.net hanmail.net kakao.com qq.com
    163.com 126.com sina.com foxmail.com orange.fr free.fr laposte.net libero.it virgilio.it
    btinternet.com comcast.net rediffmail.com seznam.cz wp.pl o2.pl""".split()
)

RULES_KEY = "signing-rules"
LIMITS_KEY = "signing-limits"
# How long a process goes on using the rules and limits it read before it asks the cache again:
# a change a superuser makes holds everywhere within this many seconds (at once in the process
# that saved it), and a viral petition's sign POSTs do not each cost a cache round trip.
RULES_MEMO_SECONDS = 5
_memos: dict[str, tuple[float, list]] = {}


def _remembered(key: str, load) -> list:
    """load()'s answer, kept in the cache for a minute and by this process for
    RULES_MEMO_SECONDS; forget_rules() drops both."""
    return remembered(_memos, key, RULES_MEMO_SECONDS, lambda: cache.get_or_set(key, load, 60))


def rules() -> list[tuple[SigningRule, object]]:
    """The allow and block lists, allow rules first, each with its network parsed."""
    return _remembered(RULES_KEY, _load_rules)


def _load_rules() -> list[tuple[SigningRule, object]]:
    ordered = sorted(SigningRule.objects.all(), key=lambda r: r.kind != SigningRule.Kind.ALLOW)
    return [
        (rule, ipaddress.ip_network(rule.network, strict=False) if rule.network else None)
        for rule in ordered
    ]


# For a scope without its row (migration 0010 makes them; a flushed test database has none).
DEFAULT_LIMITS = {"address": (10, 10), "domain": (100, 10), "petition": (0, 10)}


def limits() -> list[tuple[str, int, int]]:
    """(scope, limit, window in minutes) for each limit in force."""
    return _remembered(LIMITS_KEY, _load_limits)


def _load_limits() -> list[tuple[str, int, int]]:
    kept = {row.scope: (row.limit, row.window_minutes) for row in SigningLimit.objects.all()}
    return [
        (scope, limit, minutes)
        for scope, (limit, minutes) in {**DEFAULT_LIMITS, **kept}.items()
        if limit
    ]


def matching_rule(ip: str, domain: str, address: str) -> SigningRule | None:
    """The rule this signature falls under, allow rules first."""
    client = parse_ip(ip)
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


def _hits(counters: list[tuple[str, int]]) -> list[int]:
    """Count one more hit on each (key, window in seconds) and return the counts in their
    current windows, in one round trip with Redis (config.cache). A cache that is down counts
    nothing: signing goes on, unlimited, rather than failing."""
    try:
        count_hits = getattr(cache, "count_hits", None)
        if count_hits is not None:
            return count_hits(counters)
        return [_hit(key, window) for key, window in counters]
    except Exception:
        log.warning("rate limit cache unavailable; not limiting")
        return [0] * len(counters)


def _hit(key: str, window: int) -> int:
    try:
        return cache.incr(key)
    except ValueError:
        if cache.add(key, 1, timeout=window):
            return 1
        return cache.incr(key)


@receiver([post_save, post_delete], sender=SigningRule)
@receiver([post_save, post_delete], sender=SigningLimit)
def forget_rules(**kwargs) -> None:
    """Read the rules and limits afresh: here at once, elsewhere within RULES_MEMO_SECONDS."""
    _memos.clear()
    cache.delete_many([RULES_KEY, LIMITS_KEY])
