"""Moderating signatures in the admin: find them (by address, domain, network, country, date,
held), count what matches first, then invalidate, restore, release or resend; the counts follow
and every change is audited."""

from __future__ import annotations

import re

from django.core import mail

from accounts.models import AuditEvent
from petitions.models import Petition, Signature
from petitions.services import moderation, signing
from tests.conftest import a_moment_later, make_signature, on_commit_runs

CHANGELIST = "/admin/petitions/signature/"


def confirmed(petition, email, **fields) -> Signature:
    signature = make_signature(petition, email, **fields)
    signing.confirm(signature)
    return signature


def test_a_bulk_action_counts_what_matches_first_and_changes_nothing_yet(client, manager, petition):
    spam = [confirmed(petition, f"x{n}@spam.example") for n in range(3)]
    make_signature(petition, "pending@spam.example")
    confirmed(petition, "real@example.org")
    a_moment_later()
    client.force_login(manager)

    page = client.post(
        CHANGELIST + "?q=spam.example",
        {"action": "invalidate", "select_across": "1", "index": "0",
         "_selected_action": [spam[0].pk]},
    )  # fmt: skip

    text = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'class="count-first-total">4<', text)  # all that match, not one page
    assert "Confirmed: 3" in text and "Pending confirmation: 1" in text
    assert "Grant refugees safe passage: 4" in text
    assert Petition.objects.get(pk=petition.pk).signature_count == 4  # nothing changed yet

    done = client.post(
        CHANGELIST + "?q=spam.example",
        {"action": "invalidate", "select_across": "1", "index": "0", "confirmed": "yes",
         "_selected_action": [spam[0].pk]},
    )  # fmt: skip

    assert done.status_code == 302
    a_moment_later()
    assert Petition.objects.get(pk=petition.pk).signature_count == 1
    assert Signature.objects.filter(status="invalidated").count() == 4
    event = AuditEvent.objects.get(action="signatures invalidated")
    assert event.actor == manager and event.detail == {"selected": 4, "changed": 4}


def test_restoring_undoes_an_invalidation_and_the_counts_follow(client, manager, petition):
    kept = confirmed(petition, "kept@example.org", country="GB")
    never = make_signature(petition, "never@example.org")
    moderation.invalidate_signatures(Signature.objects.all())
    a_moment_later()
    assert Petition.objects.get(pk=petition.pk).signature_count == 0
    client.force_login(manager)

    client.post(
        CHANGELIST,
        {"action": "restore", "confirmed": "yes", "_selected_action": [kept.pk, never.pk]},
    )

    statuses = dict(Signature.objects.values_list("email", "status"))
    assert statuses == {"kept@example.org": "confirmed", "never@example.org": "pending"}
    a_moment_later()
    petition.refresh_from_db()
    assert petition.signature_count == 1
    assert petition.country_counts.get(country="GB").count == 1


def test_resending_is_capped_like_signing_again(client, manager, petition, settings):
    settings.CONFIRMATION_EMAILS_MAX = 2
    waiting = make_signature(petition, "waiting@example.org", confirmations_sent=1)
    bot = make_signature(petition, "bot@example.org", held_reason="honeypot",
                         confirmations_requested=0)  # fmt: skip
    client.force_login(manager)
    data = {"action": "resend", "confirmed": "yes", "_selected_action": [waiting.pk, bot.pk]}

    for _ in range(3):
        with on_commit_runs():
            client.post(CHANGELIST, data)

    assert [m.to for m in mail.outbox] == [["waiting@example.org"]]
    assert Signature.objects.get(pk=waiting.pk).confirmations_requested == 2
    assert Signature.objects.get(pk=bot.pk).confirmations_requested == 0


def test_signatures_are_found_by_domain_and_network(client, manager, petition):
    make_signature(petition, "a@gmail.com", name="Gmail Person", ip_network="203.0.113.0/24")
    make_signature(petition, "b@example.org", name="Other Person", ip_network="198.51.100.0/24")
    client.force_login(manager)

    by_domain = client.get(CHANGELIST, {"q": "@gmail.com"}).content.decode()
    by_network = client.get(CHANGELIST, {"q": "203.0.113."}).content.decode()

    assert "Gmail Person" in by_domain and "Other Person" not in by_domain
    assert "Gmail Person" in by_network and "Other Person" not in by_network


def test_viewers_cannot_search_by_network(client, viewer, petition):
    make_signature(petition, "a@gmail.com", name="Gmail Person", ip_network="203.0.113.0/24")
    client.force_login(viewer)

    assert "Gmail Person" not in client.get(CHANGELIST, {"q": "203.0.113."}).content.decode()
