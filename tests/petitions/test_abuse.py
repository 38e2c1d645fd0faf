"""Bots and bursts are held, not refused: saved, answered like anyone else, not counted until
staff release them. Duplicates are found whatever dots and +tags an address carries."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from config import memos, web
from petitions.models import Petition, Signature, SigningLimit, SigningRule
from petitions.services import abuse, moderation, signing
from tests.conftest import SIGN_DATA, a_moment_later, on_commit_runs, post_form


def sign_url(petition) -> str:
    return reverse("petitions:sign", args=[petition.slug])


def post(client, petition, email, data=None, **extra):
    with on_commit_runs():
        return post_form(
            client, sign_url(petition), {**SIGN_DATA, "email": email, **(data or {})}, **extra
        )


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Min.Ji+petitions@Gmail.com", "minji@gmail.com"),
        ("min.ji@googlemail.com", "minji@gmail.com"),
        ("kim+news@outlook.com", "kim@outlook.com"),
        ("kim.min.ji@outlook.com", "kim.min.ji@outlook.com"),  # Outlook keeps its dots
        ("kim+x@example.org", "kim+x@example.org"),  # unknown providers keep everything
        ("  KIM@Example.ORG ", "kim@example.org"),
    ],
)
def test_addresses_are_compared_as_their_mailbox_sees_them(typed, canonical):
    assert Signature.canonical_email(typed) == canonical


def test_a_gmail_address_with_dots_and_a_tag_is_a_duplicate(client, petition):
    post(client, petition, "minji@gmail.com")
    post(client, petition, "Min.Ji+again@gmail.com")

    assert Signature.objects.count() == 1
    assert Signature.objects.get().confirmations_requested == 2  # one more email, to the first


def test_the_honeypot_holds_the_signature_sends_nothing_and_answers_the_same(client, petition):
    person = post(client, petition, "person@example.org")
    bot = post(client, petition, "bot@example.org", {"website": "https://spam.example"})

    assert bot.status_code == person.status_code == 302
    assert bot["Location"] == person["Location"]
    held = Signature.objects.get(email="bot@example.org")
    assert held.held_reason == "honeypot"
    assert [m.to for m in mail.outbox] == [["person@example.org"]]


def test_the_honeypot_is_hidden_from_people(client, petition):
    page = client.get(petition.get_absolute_url()).content.decode()

    field = page[page.index('name="website"') - 400 : page.index('name="website"')]
    assert 'class="visually-hidden"' in field and 'aria-hidden="true"' in field
    assert 'tabindex="-1"' in page[page.index('name="website"') - 200 :][:400]


def set_limit(scope: str, limit: int, minutes: int = 10) -> None:
    SigningLimit.objects.update_or_create(
        scope=scope, defaults={"limit": limit, "window_minutes": minutes}
    )


def test_a_burst_from_one_address_is_held_and_a_normal_person_is_not(client, petition):
    set_limit("address", 3)
    for n in range(5):
        assert post(client, petition, f"burst{n}@example.org").status_code == 302
    post(client, petition, "neighbour@example.org", REMOTE_ADDR="198.51.100.7")

    held = dict(Signature.objects.values_list("email", "held_reason"))
    assert [held[f"burst{n}@example.org"] == "" for n in range(5)] == [True] * 3 + [False] * 2
    assert "more than 3 signatures from one address" in held["burst4@example.org"]
    assert held["neighbour@example.org"] == ""
    assert len(mail.outbox) == 6  # held people still confirm; staff decide whether they count


def test_the_limits_can_be_turned_off_for_load_tests(client, petition, settings):
    set_limit("address", 1)
    set_limit("petition", 1)
    settings.SIGNING_RATE_LIMITS = False
    for n in range(3):
        post(client, petition, f"load{n}@example.org")

    assert not Signature.objects.exclude(held_reason="").exists()


def test_a_held_signature_confirms_but_counts_only_once_released(client, superuser, petition):
    signature = Signature.objects.create(
        petition=petition, name="Held", email="h@example.org", email_canonical="h@example.org",
        country="KR", held_reason="honeypot",
    )  # fmt: skip

    assert signing.confirm(signature) == signing.Confirmation.CONFIRMED
    petition.refresh_from_db()
    assert petition.signature_count == 0 and petition.signatures.counted().count() == 0

    client.force_login(superuser)
    client.post(
        "/admin/petitions/signature/",
        {"action": "release", "confirmed": "yes", "_selected_action": [signature.pk]},
    )

    a_moment_later()
    petition.refresh_from_db()
    assert petition.signature_count == 1
    assert petition.country_counts.get(country="KR").count == 1
    event = AuditEvent.objects.get(action="signatures released")
    assert (event.actor, event.detail) == (superuser, {"selected": 1, "changed": 1})
    assert moderation.invalidate_signatures(Signature.objects.filter(pk=signature.pk)) == 1
    a_moment_later()
    petition.refresh_from_db()
    assert petition.signature_count == 0


def test_invalidating_a_held_signature_leaves_the_counts_alone(petition):
    counted = Signature.objects.create(
        petition=petition, name="A", email="a@example.org", email_canonical="a@example.org",
        country="KR",
    )  # fmt: skip
    held = Signature.objects.create(
        petition=petition, name="B", email="b@example.org", email_canonical="b@example.org",
        country="KR", held_reason="honeypot",
    )  # fmt: skip
    signing.confirm(counted)
    signing.confirm(held)

    moderation.invalidate_signatures(Signature.objects.filter(pk=held.pk))

    a_moment_later()
    assert Petition.objects.get(pk=petition.pk).signature_count == 1


def test_only_the_network_is_kept_and_the_proxy_header_only_from_a_trusted_proxy(
    petition, settings, caplog
):
    import ipaddress

    client = Client()
    forwarded = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.77, 10.0.0.9"}

    with caplog.at_level(logging.WARNING, logger="config.web"):
        post(client, petition, "untrusted@example.org", **forwarded)
    assert "X-Forwarded-For ignored: the request came from 10.0.0.2" in caplog.text
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    post(client, petition, "trusted@example.org", **forwarded)
    post(client, petition, "v6@example.org", REMOTE_ADDR="2001:db8:1:2::5")

    networks = dict(Signature.objects.values_list("email", "ip_network"))
    assert networks["untrusted@example.org"] == "10.0.0.0/24"  # the header was not believed
    assert networks["trusted@example.org"] == "203.0.113.0/24"
    assert networks["v6@example.org"] == "2001:db8:1::/48"
    assert "203.0.113.77" not in str(list(Signature.objects.values()))


def test_a_client_rotating_addresses_within_its_ipv6_64_is_one_client(client, petition):
    set_limit("address", 3)
    for n in range(5):
        post(client, petition, f"rotating{n}@example.org", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
    post(client, petition, "next-door@example.org", REMOTE_ADDR="2001:db8:1:3::1")

    held = dict(Signature.objects.values_list("email", "held_reason"))
    assert [held[f"rotating{n}@example.org"] == "" for n in range(5)] == [True] * 3 + [False] * 2
    assert held["next-door@example.org"] == ""  # another /64: another client


def test_an_ipv4_mapped_address_is_the_ipv4_address_it_carries(client, petition):
    set_limit("address", 2)
    post(client, petition, "mapped0@example.org", REMOTE_ADDR="::ffff:198.51.100.7")
    post(client, petition, "plain@example.org", REMOTE_ADDR="198.51.100.7")
    post(client, petition, "mapped1@example.org", REMOTE_ADDR="::ffff:c633:6407")

    rows = {
        e: (n, h) for e, n, h in Signature.objects.values_list("email", "ip_network", "held_reason")
    }
    assert rows["mapped0@example.org"] == ("198.51.100.0/24", "")
    assert rows["plain@example.org"] == ("198.51.100.0/24", "")
    assert rows["mapped1@example.org"][0] == "198.51.100.0/24"
    assert "more than 2 signatures from one address" in rows["mapped1@example.org"][1]


@pytest.mark.parametrize(
    ("forwarded", "client_address"),
    [
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        (" [2001:db8::1]:443 ", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("203.0.113.7:5678", "203.0.113.7"),
        ("  203.0.113.7  ", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("[::ffff:203.0.113.7]:80", "203.0.113.7"),
        ("fe80::1%eth0", "fe80::1"),
        ("203.0.113.7, [2001:db8::2]:443", "2001:db8::2"),  # the last one is the client's
        ("[2001:db8::1", "10.0.0.2"),  # not an address: the proxy's own
        ("[2001:db8::1]:x", "10.0.0.2"),
        ("203.0.113.7:", "10.0.0.2"),
        ("unknown", "10.0.0.2"),
    ],
)
def test_forwarded_addresses_are_read_in_the_forms_proxies_write(
    settings, forwarded, client_address
):
    import ipaddress

    from django.test import RequestFactory

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    request = RequestFactory().post(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{forwarded}, 10.0.0.9"
    )

    assert web.client_ip(request) == client_address


def test_a_bracketed_forwarded_address_is_the_signatures_network(client, petition, settings):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    post(  # the proxy's address as a dual-stack socket reports it
        client, petition, "v6@example.org",
        REMOTE_ADDR="::ffff:10.0.0.2", HTTP_X_FORWARDED_FOR="[2001:db8:7:8::9]:52100",
    )  # fmt: skip

    assert Signature.objects.get().ip_network == "2001:db8:7::/48"


def test_staff_see_why_a_signature_is_held(client, superuser, petition):
    Signature.objects.create(
        petition=petition, name="Bot", email="bot@example.org", email_canonical="bot@example.org",
        country="KR", held_reason="honeypot",
    )  # fmt: skip
    client.force_login(superuser)

    page = client.get("/admin/petitions/signature/", {"held": "yes"}).content.decode()

    assert "Bot" in page and "honeypot" in page


def rule(**fields) -> SigningRule:
    made = SigningRule(**fields)
    made.full_clean()
    made.save()
    return made


@pytest.mark.parametrize(
    ("fields", "email", "address"),
    [
        ({"network": "198.51.100.0/24"}, "a@example.org", "198.51.100.77"),
        ({"domain": "Spam.Example"}, "a@mail.spam.example", "203.0.113.1"),
        ({"address": "Mass.Signer+1@gmail.com"}, "mass.signer+2@gmail.com", "203.0.113.1"),
    ],
)
def test_the_block_list_holds_a_network_a_domain_or_an_address(
    client, petition, fields, email, address
):
    rule(kind="block", note="reported flood", **fields)

    post(client, petition, email, REMOTE_ADDR=address)
    post(client, petition, "someone.else@example.net", REMOTE_ADDR="192.0.2.50")

    reasons = dict(Signature.objects.values_list("email", "held_reason"))
    assert reasons[email].startswith("blocked: Block (always hold)")
    assert reasons["someone.else@example.net"] == ""


def test_the_allow_list_exempts_a_shared_network_from_the_burst_limit(client, petition):
    set_limit("address", 2)
    rule(kind="allow", network="203.0.113.0/24", note="the vigil's wifi")

    for n in range(4):
        post(client, petition, f"vigil{n}@example.org", REMOTE_ADDR="203.0.113.9")

    assert not Signature.objects.exclude(held_reason="").exists()


def test_a_disposable_address_is_held(client, petition):
    post(client, petition, "throwaway@mailinator.com")

    assert Signature.objects.get().held_reason == "a disposable address"


def test_a_rule_takes_exactly_one_valid_target():
    from django.core.exceptions import ValidationError

    for fields in [{}, {"domain": "a.org", "address": "b@c.org"}, {"network": "not a network"}]:
        with pytest.raises(ValidationError):
            SigningRule(kind="block", **fields).full_clean()


def test_only_superusers_keep_the_lists(client, owner, superuser):
    client.force_login(owner)
    assert client.get("/admin/petitions/signingrule/").status_code == 403
    client.force_login(superuser)
    assert client.get("/admin/petitions/signingrule/").status_code == 200


def test_a_rule_saved_in_another_process_holds_here_within_seconds(client, petition, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(memos.time, "monotonic", lambda: now[0])
    post(client, petition, "first@example.org")  # this process has read the rules
    SigningRule.objects.bulk_create(
        [SigningRule(kind="block", domain="flood.example")]
    )  # elsewhere

    post(client, petition, "a@flood.example")
    now[0] += memos.SIGNING_RULES.seconds
    abuse.cache.delete(abuse.RULES_KEY)  # the other process's save cleared the shared cache
    post(client, petition, "b@flood.example")

    reasons = dict(Signature.objects.values_list("email", "held_reason"))
    assert reasons["a@flood.example"] == ""  # within the rules' memo's lifetime
    assert reasons["b@flood.example"].startswith("blocked")


def test_a_burst_from_one_mail_domain_is_held_but_not_from_webmail(client, petition):
    set_limit("domain", 2)
    for n in range(3):
        post(client, petition, f"staff{n}@bot-farm.example", REMOTE_ADDR=f"198.51.100.{n}")
        post(client, petition, f"person{n}@gmail.com", REMOTE_ADDR=f"203.0.113.{n}")

    reasons = dict(Signature.objects.values_list("email", "held_reason"))
    assert [reasons[f"staff{n}@bot-farm.example"] for n in range(2)] == ["", ""]
    assert reasons["staff2@bot-farm.example"] == (
        "more than 2 signatures from one email domain in 10 minutes"
    )
    assert all(reasons[f"person{n}@gmail.com"] == "" for n in range(3))


def test_a_petition_under_attack_can_be_given_a_limit_of_its_own(client, petition, campaign):
    from tests.conftest import make_petition

    other = make_petition(campaign, slug="other")
    set_limit("petition", 2, minutes=5)
    for n in range(3):
        post(client, petition, f"a{n}@example.org", REMOTE_ADDR=f"198.51.100.{n}")
    post(client, other, "b@example.org", REMOTE_ADDR="198.51.100.9")

    reasons = dict(Signature.objects.values_list("email", "held_reason"))
    assert reasons["a2@example.org"] == "more than 2 signatures to this petition in 5 minutes"
    assert reasons["a0@example.org"] == reasons["a1@example.org"] == reasons["b@example.org"] == ""


def test_only_superusers_change_the_limits_and_each_change_is_audited(
    client, superuser, owner, petition
):
    from accounts.models import AuditEvent

    limit = SigningLimit.objects.get(scope="address")
    url = reverse("admin:petitions_signinglimit_change", args=[limit.pk])
    client.force_login(owner)
    assert client.get(url).status_code == 403
    assert client.post(url, {"limit": 1000, "window_minutes": 10}).status_code == 403

    client.force_login(superuser)
    assert client.post(url, {"limit": 2, "window_minutes": 1}).status_code == 302
    for n in range(3):
        post(client, petition, f"c{n}@example.org")

    assert Signature.objects.get(email="c2@example.org").held_reason == (
        "more than 2 signatures from one address in a minute"
    )
    event = AuditEvent.objects.get(action="signing limit changed")
    assert event.actor == superuser and event.detail == {"limit": 2, "window_minutes": 1}
    assert client.get(reverse("admin:petitions_signinglimit_add")).status_code == 403


def test_a_limit_changed_in_the_shell_is_audited_too(db):
    from accounts.models import AuditEvent

    limit = SigningLimit.objects.get(scope=SigningLimit.Scope.DOMAIN)
    limit.limit = 7
    limit.save()

    event = AuditEvent.objects.get(action="signing limit changed")
    assert (event.actor, event.detail) == (None, {"limit": 7, "window_minutes": 10})
