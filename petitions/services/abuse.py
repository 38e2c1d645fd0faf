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
  under a keyed hash of the address or domain, never the thing itself.

Held people still get their email, but not beyond a cap on confirmation emails for one client or
to one email domain (big webmail providers excepted), counted in the same round trip: the
signature is saved all the same, owing no email, and answered alike; only the allow list
exempts. SIGNING_RATE_LIMITS=0 turns the limits and the caps off for load tests run from one
address.

The client address comes from X-Forwarded-For only when the request came through one of
TRUSTED_PROXIES; a signature keeps only its network (/24 for IPv4, /48 for IPv6). The limits
count an IPv6 client by its /64, which one host can fill with addresses of its own.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from disposable_email_domains import blocklist as disposable_domains
from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.crypto import salted_hmac

from config import memos
from config.cache import count_hits
from config.web import limited_address, parse_ip
from petitions.models import Signature, SigningLimit, SigningRule

HONEYPOT = "website"


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Verdict:
    """What becomes of a signature: why it is held ("" when it counts), and whether it is sent
    its confirmation email (not to the honeypot, nor beyond an email cap)."""

    held_reason: str = ""
    email: bool = True


def assess(ip: str, form_data, petition_id: int) -> Verdict:
    """The verdict on this signature to the petition from the client address ip (client_ip()).
    Every signature not on the allow list counts against the email caps, held or not: held
    people still get their email, and the caps are what keep one client from making the site
    mail any number of addresses."""
    if form_data.get(HONEYPOT):
        return Verdict("honeypot", email=False)
    address = Signature.canonical_email(form_data.get("email", ""))
    domain = address.rpartition("@")[2]
    rule = matching_rule(ip, domain, address)
    if rule is not None and rule.kind == SigningRule.Kind.ALLOW:
        return Verdict()
    if rule is not None:
        reason = f"blocked: {rule}"[:100]
    elif domain in disposable_domains:
        reason = "a disposable address"
    else:
        reason = ""
    if not settings.SIGNING_RATE_LIMITS:
        return Verdict(reason)
    over_a_limit, over_a_cap = _count(ip, domain, petition_id, held=bool(reason))
    return Verdict(reason or over_a_limit, email=not over_a_cap)


EMAIL_CAPS = (SigningLimit.Scope.EMAILS_FROM_CLIENT, SigningLimit.Scope.EMAILS_TO_DOMAIN)


_WHENCE = {
    SigningLimit.Scope.ADDRESS: "from one address",
    SigningLimit.Scope.DOMAIN: "from one email domain",
    SigningLimit.Scope.PETITION: "to this petition",
}


def _count(ip: str, domain: str, petition_id: int, *, held: bool) -> tuple[str, bool]:
    """Count this signature against each limit in force (SigningLimit), all in one round trip
    to Redis: the signing limits (not for a signature held already) and the email caps. The
    reason for the first signing limit it goes over (or ""), and whether it goes over a cap."""
    client = _key(limited_address(ip))
    mail_domain = "" if domain in WEBMAIL_DOMAINS else _key(domain)
    keys = {
        SigningLimit.Scope.ADDRESS: not held and f"signing-ip:{client}",
        SigningLimit.Scope.DOMAIN: not held and mail_domain and f"signing-domain:{mail_domain}",
        SigningLimit.Scope.PETITION: not held and f"signing-petition:{petition_id}",
        SigningLimit.Scope.EMAILS_FROM_CLIENT: f"emails-client:{client}",
        SigningLimit.Scope.EMAILS_TO_DOMAIN: mail_domain and f"emails-domain:{mail_domain}",
    }
    counted = [(scope, limit, minutes) for scope, limit, minutes in limits() if keys.get(scope)]
    hits = count_hits([(keys[scope], minutes * 60) for scope, _, minutes in counted])
    reason, over_a_cap = "", False
    for count, (scope, limit, minutes) in zip(hits, counted, strict=True):
        if count <= limit:
            continue
        if scope in EMAIL_CAPS:
            over_a_cap = True
        elif not reason:
            window = f"{minutes} minutes" if minutes != 1 else "a minute"
            reason = f"more than {limit} signatures {_WHENCE[scope]} in {window}"
    return reason, over_a_cap


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


def rules() -> list[tuple[SigningRule, object]]:
    """The allow and block lists, allow rules first, each with its network parsed: kept in the
    cache for a minute and by each process as config.memos.SIGNING_RULES says (a change holds
    everywhere within seconds, at once in the process that saved it); forget_rules() drops
    both."""
    return memos.SIGNING_RULES.get(RULES_KEY, lambda: cache.get_or_set(RULES_KEY, _load_rules, 60))


def _load_rules() -> list[tuple[SigningRule, object]]:
    ordered = sorted(SigningRule.objects.all(), key=lambda r: r.kind != SigningRule.Kind.ALLOW)
    return [
        (rule, ipaddress.ip_network(rule.network, strict=False) if rule.network else None)
        for rule in ordered
    ]


# For a scope without its row (migrations 0010 and 0012 make them; a flushed test database has
# none).
DEFAULT_LIMITS = {
    "address": (10, 10),
    "domain": (100, 10),
    "petition": (0, 10),
    "emails_client": (100, 60),
    "emails_domain": (500, 60),
}


def limits() -> list[tuple[str, int, int]]:
    """(scope, limit, window in minutes) for each limit in force."""
    return memos.SIGNING_LIMITS.get(
        LIMITS_KEY, lambda: cache.get_or_set(LIMITS_KEY, _load_limits, 60)
    )


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


@receiver([post_save, post_delete], sender=SigningRule)
@receiver([post_save, post_delete], sender=SigningLimit)
def forget_rules(**kwargs) -> None:
    """Read the rules and limits afresh: here at once, elsewhere within their memos' lifetime."""
    memos.SIGNING_RULES.forget()
    memos.SIGNING_LIMITS.forget()
    cache.delete_many([RULES_KEY, LIMITS_KEY])
