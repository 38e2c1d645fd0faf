"""The site is not a mail cannon: beyond a cap on confirmation emails for one client or to one
email domain, a signature is still saved (and held if it is over a signing limit) but asks for no
email, now or later, and the answer is the same redirect, byte for byte."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from petitions import tasks
from petitions.models import Signature, SigningLimit, SigningRule
from petitions.services import abuse
from tests.conftest import SIGN_DATA, on_commit_runs, post_form


def post(client, petition, email, address="203.0.113.9"):
    with on_commit_runs():
        return post_form(
            client,
            reverse("petitions:sign", args=[petition.slug]),
            {**SIGN_DATA, "email": email},
            REMOTE_ADDR=address,
        )


def set_limit(scope: str, limit: int, minutes: int = 60) -> None:
    SigningLimit.objects.update_or_create(
        scope=scope, defaults={"limit": limit, "window_minutes": minutes}
    )


def answer(response) -> tuple:
    return response.status_code, tuple(sorted(response.items())), response.content


def mailed() -> list[str]:
    return [message.to[0] for message in mail.outbox]


@pytest.fixture(autouse=True)
def signing_limits_out_of_the_way(db):
    """The signing limits are lower than the caps; these tests are about the caps alone."""
    for scope in ("address", "domain", "petition"):
        set_limit(scope, 0)


def test_beyond_the_cap_for_one_client_signatures_are_saved_and_answered_alike_but_not_mailed(
    client, petition
):
    set_limit("emails_client", 3)

    with time_machine.travel(timezone.now(), tick=False):  # the same Expires header
        answers = [post(client, petition, f"s{n}@example.org") for n in range(5)]

    assert Signature.objects.count() == 5
    assert mailed() == ["s0@example.org", "s1@example.org", "s2@example.org"]
    assert len({answer(response) for response in answers}) == 1
    assert answers[0].status_code == 302
    owed = dict(Signature.objects.values_list("email", "confirmations_requested"))
    assert owed["s3@example.org"] == owed["s4@example.org"] == 0
    # Another client is not held back by this one.
    post(client, petition, "elsewhere@example.org", address="198.51.100.1")
    assert mailed()[-1] == "elsewhere@example.org"


def test_the_periodic_requeue_never_sends_what_a_cap_stopped(client, petition):
    set_limit("emails_client", 1)
    post(client, petition, "first@example.org")
    post(client, petition, "capped@example.org")
    Signature.objects.update(created_at=timezone.now() - timedelta(days=1))

    assert tasks.requeue_unsent_confirmations() == 0
    assert mailed() == ["first@example.org"]


def test_staff_can_still_resend_a_capped_signatures_email_after_looking(client, petition, manager):
    set_limit("emails_client", 1)
    post(client, petition, "first@example.org")
    post(client, petition, "capped@example.org")
    capped = Signature.objects.get(email="capped@example.org")

    client.force_login(manager)
    with on_commit_runs():
        client.post(
            "/admin/petitions/signature/",
            {"action": "resend", "confirmed": "yes", "_selected_action": [capped.pk]},
        )

    assert mailed() == ["first@example.org", "capped@example.org"]


def test_asking_for_the_link_again_obeys_the_caps(client, petition):
    set_limit("emails_client", 2)
    post(client, petition, "a@example.org")
    post(client, petition, "b@example.org")

    again = post(client, petition, "a@example.org")

    assert again.status_code == 302
    assert mailed() == ["a@example.org", "b@example.org"]
    assert Signature.objects.get(email="a@example.org").confirmations_requested == 1


def test_beyond_the_cap_for_one_domain_its_addresses_are_not_mailed_but_webmail_is_not_capped(
    client, petition
):
    set_limit("emails_domain", 2)
    for n in range(4):
        post(client, petition, f"staff{n}@small-ngo.example", address=f"198.51.100.{n + 1}")
        post(client, petition, f"supporter{n}@gmail.com", address=f"203.0.113.{n + 1}")

    assert [a for a in mailed() if "small-ngo" in a] == [
        "staff0@small-ngo.example",
        "staff1@small-ngo.example",
    ]
    assert len([a for a in mailed() if a.endswith("@gmail.com")]) == 4
    assert Signature.objects.count() == 8


def test_a_signature_held_for_another_reason_counts_against_the_caps_too(client, petition):
    set_limit("emails_client", 1)
    SigningRule.objects.create(kind="block", network="203.0.113.0/24")

    post(client, petition, "a@example.org")
    post(client, petition, "b@example.org")

    assert mailed() == ["a@example.org"]
    assert all(
        s.startswith("blocked") for s in Signature.objects.values_list("held_reason", flat=True)
    )


def test_an_allow_listed_network_is_not_capped(client, petition):
    set_limit("emails_client", 1)
    set_limit("emails_domain", 1)
    SigningRule.objects.create(kind="allow", network="203.0.113.0/24", note="the vigil's wifi")

    for n in range(3):
        post(client, petition, f"vigil{n}@example.org")

    assert len(mailed()) == 3


def test_a_cap_holds_for_its_window_and_then_mails_again(client, petition, settings):
    # Counted in this process's memory, whose clock the test moves (Redis keeps its own time).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    set_limit("emails_client", 1)
    set_limit("emails_domain", 100)
    start = timezone.now()

    with time_machine.travel(start):
        post(client, petition, "first@example.org")
        post(client, petition, "capped@example.org")
    with time_machine.travel(start + timedelta(minutes=59)):
        post(client, petition, "still-capped@example.org")
    with time_machine.travel(start + timedelta(minutes=61)):
        post(client, petition, "an-hour-later@example.org")

    assert mailed() == ["first@example.org", "an-hour-later@example.org"]


def test_the_caps_are_off_with_the_limits_for_load_tests(client, petition, settings):
    set_limit("emails_client", 1)
    settings.SIGNING_RATE_LIMITS = False

    for n in range(3):
        post(client, petition, f"load{n}@example.org")

    assert len(mailed()) == 3


def test_a_new_instance_starts_with_generous_caps(db):
    caps = SigningLimit.objects.filter(scope__startswith="emails")

    assert sorted(caps.values_list("scope", "limit", "window_minutes")) == [
        ("emails_client", 100, 60),
        ("emails_domain", 500, 60),
    ]


@pytest.mark.skipif(not settings.REDIS_URL, reason="counts in Redis: run with REDIS_URL")
def test_with_redis_a_sign_post_counts_limits_and_caps_in_one_round_trip(
    client, petition, monkeypatch
):
    import redis

    set_limit("address", 10, minutes=10)
    post(client, petition, "warm@example.org")  # the rules and limits are read once
    pipelines, commands = [], []
    real_execute, real_command = redis.client.Pipeline.execute, redis.Redis.execute_command

    def execute(pipeline, *args, **kwargs):
        pipelines.append(len(pipeline.command_stack))
        return real_execute(pipeline, *args, **kwargs)

    def command(connection, *args, **kwargs):
        commands.append(args[0])
        return real_command(connection, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    monkeypatch.setattr(redis.Redis, "execute_command", command)

    verdict = abuse.assess("198.51.100.7", {"email": "a@small-ngo.example"}, petition.pk)

    assert verdict == abuse.Verdict()
    # One pipeline: three counters (the client's signatures and emails, the domain's emails),
    # each a SET NX and an INCR.
    assert pipelines == [6]
    assert commands == []
