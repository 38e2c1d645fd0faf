"""Redis stopped under the real stack: gunicorn, a Celery worker and a redis-server of the test's
own (the cache and the broker), killed in the middle of a stream of signatures and started again.
Every request is answered as usual meanwhile, nothing is lost, and once Redis is back the emails
owed go out, the count is right, and the documents asked for meanwhile are built. First, the
cache alone in this process.

Run with PostgreSQL and Redis, as tests/integration/test_real_stack.py says.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.cookiejar import Cookie

import pytest
from celery import Celery
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from config import memos, outages
from config.cache import count_hits
from petitions.models import Export, Petition, Presentation, Signature, SigningLimit, Tally
from petitions.tokens import make_token
from tests.conftest import make_signature, redis_cache

from .conftest import (
    REAL_STACK_SKIP_REASON,
    CeleryWorker,
    HttpClient,
    MailSink,
    RedisServer,
    WebServer,
    csrf_token_in,
    real_stack_configured,
    wait_for,
)
from .test_real_stack import signature_count

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not real_stack_configured(), reason=REAL_STACK_SKIP_REASON),
]

LONG_WAIT = 90.0  # a worker reconnecting to a restarted broker backs off for a while


def test_the_cache_goes_on_without_redis_and_uses_it_again_once_it_is_back(
    private_redis: RedisServer, settings, monkeypatch, caplog
) -> None:
    now = [1000.0]
    monkeypatch.setattr(outages, "monotonic", lambda: now[0])  # the outage's clock, by hand
    caplog.set_level(logging.INFO, logger="config.outages")
    settings.CACHES = {"default": redis_cache(private_redis.url)}
    cache.set("page", b"bytes", 60)
    assert count_hits([("signing-ip:outage", 600)]) == [1]

    private_redis.stop()
    assert cache.get("page") is None
    cache.set("page", b"kept nowhere", 60)
    assert cache.get_or_set("rules", lambda: ["from the database"], 60) == ["from the database"]
    assert cache.add("folded:1", True, 1) is True  # the confirmation folds its own count
    assert [count_hits([("signing-ip:outage", 600)]) for _ in range(2)] == [[1], [2]]  # alone

    private_redis.start()
    assert cache.get("page") is None  # not asked again yet
    now[0] += outages.RETRY_SECONDS
    assert cache.get("page") is None  # back, and empty: it keeps nothing on disk
    cache.set("page", b"bytes", 60)
    assert cache.get("page") == b"bytes"
    assert [count_hits([("signing-ip:outage", 600)]) for _ in range(2)] == [[1], [2]]  # in Redis

    assert [(r.levelno, r.getMessage().split(" (")[0]) for r in caplog.records] == [
        (logging.WARNING, "the Redis cache cannot be reached"),
        (logging.INFO, "the Redis cache is reachable again after 5 s"),
    ]


def run_on_worker(broker_url: str, task_name: str, **kwargs: object) -> None:
    """Queue a periodic task as beat would."""
    with Celery("beat", broker=broker_url, set_as_current=False) as app:
        app.send_task(task_name, kwargs=kwargs)


def signer(n: int) -> dict[str, str]:
    return {
        "name": f"Signer {n}",
        "email": f"signer{n}@example.org",
        "country": "KR",
        "city": "Seoul",
        "consent": "on",
    }


class SigningStream(threading.Thread):
    """Signs with a new address after another, as fast as the server answers, until stopped;
    keeps each answer's final status and address."""

    def __init__(self, base_url: str, petition: Petition, first: int) -> None:
        super().__init__(daemon=True)
        self.http = HttpClient(base_url)
        self.url = reverse("petitions:sign", args=[petition.slug])
        self.next = first
        self.answers: list[tuple[int, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            response = self.http.post(self.url, signer(self.next))
            self.answers.append((response.status, response.url))
            self.next += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


def confirm(http: HttpClient, signature: Signature) -> str:
    link = reverse("petitions:confirm", args=[signature.uuid, make_token(signature.uuid)])
    page = http.get(link)
    assert page.status == 200, page.body
    return http.post(link, {"csrfmiddlewaretoken": csrf_token_in(page.body)}).url


def test_signing_goes_on_while_redis_is_down_and_nothing_is_lost(
    petition: Petition,
    private_redis: RedisServer,
    start_web: Callable[..., WebServer],
    start_worker: Callable[[], CeleryWorker],
    worker_env: dict[str, str],
    smtp_server: MailSink,
) -> None:
    # Limits and caps high enough for one test client, and counted (like the rules are read)
    # on every POST.
    for scope in ("address", "domain", "emails_client", "emails_domain"):
        SigningLimit.objects.update_or_create(scope=scope, defaults={"limit": 100_000})
    web = start_web(REDIS_URL=private_redis.url)
    worker_env.update(REDIS_URL=private_redis.url, SITE_URL=web.url)
    worker = start_worker()
    worker.wait_until_ready()
    http = HttpClient(web.url)
    signed_url = web.url + reverse("petitions:signed", args=[petition.slug])
    for n in range(3):
        assert http.post(reverse("petitions:sign", args=[petition.slug]), signer(n)).url == (
            signed_url
        )
    wait_for(lambda: len(smtp_server.messages) == 3, "the first emails", worker=worker)

    stream = SigningStream(web.url, petition, first=3)
    stream.start()
    wait_for(lambda: len(stream.answers) >= 10, "signatures before Redis stops")
    private_redis.stop()
    killed_at, killed_when = len(stream.answers), time.monotonic()
    # Long enough for the web process to read the signing rules and limits again (it keeps them
    # config.memos.SIGNING_RULES), as when Redis was stopped for 10 s in production.
    wait_for(
        lambda: (
            len(stream.answers) >= killed_at + 30
            and time.monotonic() - killed_when > memos.SIGNING_RULES.seconds + 1
        ),
        "signatures while Redis is down",
    )

    # Meanwhile the pages are served, and confirmations count at once.
    page = http.get(petition.get_absolute_url())
    assert page.status == 200, page.body
    thanks_url = web.url + reverse("petitions:thanks", args=[petition.slug])
    before, during = "signer0@example.org", f"signer{3 + killed_at + 5}@example.org"
    for signature in Signature.objects.filter(email__in=[before, during]):
        assert confirm(http, signature) == thanks_url
    wait_for(lambda: signature_count(http, petition) == 2, "the confirmations to count")

    stream.stop()
    assert len(stream.answers) > killed_at + 30
    assert {answer for answer in stream.answers} == {(200, signed_url)}
    signed = 3 + len(stream.answers)
    assert Signature.objects.filter(petition=petition).count() == signed

    # Redis comes back, empty: what it held is lost, and nothing needed it. The worker is
    # started again, as its supervisor would: one holding tasks when Redis went may have exited
    # (kombu 5.7 fails restoring them to a broker that is gone; docs/operations.md).
    private_redis.start()
    worker.stop()
    worker = start_worker()
    wait_for(
        lambda: (
            http.get(petition.get_absolute_url()).status == 200
            and "the Redis cache is reachable again" in web.log()
        ),
        "the web server to use Redis again",
    )
    Signature.objects.update(created_at=timezone.now() - timedelta(hours=1))
    # All at once (beat's runs take 1,000 every five minutes; a fast stream signs more).
    run_on_worker(private_redis.url, "petitions.tasks.requeue_unsent_confirmations", limit=signed)

    def everyone_mailed() -> bool:
        return sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == sorted(
            f"signer{n}@example.org" for n in range(signed)
        )

    wait_for(everyone_mailed, "an email to every signer, once", worker=worker, timeout=LONG_WAIT)
    assert set(Signature.objects.values_list("confirmations_sent", flat=True)) == {1}
    assert signature_count(http, petition) == 2
    assert not Tally.objects.exists()
    log = web.log()
    assert "Traceback" not in log and "Internal Server Error" not in log, log
    assert log.count("the Redis cache cannot be reached") == 1, log
    assert "@example.org" not in log


def log_in(http: HttpClient, user: User) -> None:
    """The session a login with both factors gives, made here and handed to the web server."""
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    http.cookies.set_cookie(
        Cookie(
            0, settings.SESSION_COOKIE_NAME, value, None, False, "127.0.0.1", False, False,
            "/", True, False, None, False, None, None, {},
        )
    )  # fmt: skip


def test_presenting_and_exporting_while_redis_is_down_answer_and_the_sweep_builds_them(
    petition: Petition,
    owner: User,
    private_redis: RedisServer,
    start_web: Callable[..., WebServer],
    start_worker: Callable[[], CeleryWorker],
    worker_env: dict[str, str],
) -> None:
    make_signature(petition, status=Signature.Status.CONFIRMED, verified_at=timezone.now())
    web = start_web(REDIS_URL=private_redis.url, EXPORT_BACKGROUND_THRESHOLD="0")
    http = HttpClient(web.url)
    log_in(http, owner)
    private_redis.stop()

    present_url = reverse("admin:petitions_petition_present", args=[petition.pk])
    form = http.get(present_url)
    assert form.status == 200, form.body
    presented = http.post(
        present_url,
        {
            "csrfmiddlewaretoken": csrf_token_in(form.body),
            "presented_on": timezone.localdate().isoformat(),
            "place": "the Chinese Embassy, London",
            "recipient": "the Ambassador",
            "presented_by": "Olivia",
        },
    )
    assert presented.status == 200, presented.body
    assert presented.url == web.url + reverse("admin:petitions_petition_change", args=[petition.pk])
    assert "Marked as presented" in presented.body
    exported = http.get(reverse("admin:petitions_petition_export_csv", args=[petition.pk]))
    assert exported.status == 200, exported.body
    presentation, export = Presentation.objects.get(), Export.objects.get()
    assert exported.url == web.url + reverse("admin:petitions_export_change", args=[export.pk])
    assert (presentation.status, export.status) == ("building", "queued")

    private_redis.start()
    worker_env.update(
        REDIS_URL=private_redis.url, PRIVATE_MEDIA_ROOT=str(web.log_path.parent / "private")
    )
    worker = start_worker()
    worker.wait_until_ready()
    Presentation.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    Export.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    run_on_worker(private_redis.url, "petitions.tasks.requeue_stuck_documents")

    wait_for(
        lambda: (
            Presentation.objects.filter(status="ready").exists()
            and Export.objects.filter(status="done").exists()
        ),
        "the presentation document and the export",
        worker=worker,
        timeout=LONG_WAIT,
    )
    assert "Traceback" not in web.log(), web.log()
