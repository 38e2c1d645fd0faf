"""Counts kept exactly: the total, by country and by hour, through confirmations, folds run
twice, invalidations, recounts and presenting; on PostgreSQL, under many threads at once."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from petitions import tasks
from petitions.models import CountryCount, HourlyCount, Petition, Signature, Tally
from petitions.services import counting, moderation, presenting, signing
from tests.conftest import a_moment_later, make_petition, make_signature, on_commit_runs

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row and advisory locks are PostgreSQL's"
)


def kept(petition: Petition) -> tuple[int, dict[str, int], int]:
    """(online count, counts by country, sum of hourly counts) as kept."""
    petition.refresh_from_db()
    countries = dict(
        CountryCount.objects.filter(petition=petition, count__gt=0).values_list("country", "count")
    )
    hours = sum(HourlyCount.objects.filter(petition=petition).values_list("count", flat=True))
    return petition.signature_count, countries, hours


def from_rows(petition: Petition) -> tuple[int, dict[str, int], int]:
    counted = petition.signatures.counted()
    countries: dict[str, int] = {}
    for code in counted.values_list("country", flat=True):
        countries[code] = countries.get(code, 0) + 1
    return counted.count(), countries, counted.count()


def pending(petition: Petition, n: int, countries=("KR", "GB", "JP")) -> list[Signature]:
    start = petition.signatures.count()
    return [
        make_signature(petition, f"p{start + i}@example.org", country=countries[i % len(countries)])
        for i in range(n)
    ]


def test_on_the_embedded_default_a_confirmation_counts_at_once_everywhere(petition, settings):
    """Without Redis and a worker (the embedded default) each confirmation folds its own tally:
    the total, its country and its hour, with no tally left waiting."""
    settings.COUNT_FOLD_INLINE = True
    signature = pending(petition, 1, countries=("KR",))[0]

    assert signing.confirm(signature) == signing.Confirmation.CONFIRMED

    assert kept(petition) == (1, {"KR": 1}, 1)
    hour = HourlyCount.objects.get(petition=petition)
    signature.refresh_from_db()
    assert hour.hour == signature.verified_at.replace(minute=0, second=0, microsecond=0)
    assert not Tally.objects.exists()


def test_with_a_worker_one_confirmation_per_interval_folds_and_queues_the_next_fold(
    petition, settings, broker
):
    settings.COUNT_FOLD_INTERVAL_SECONDS = 60  # all five fall in one interval
    signatures = pending(petition, 5)

    for signature in signatures:
        with on_commit_runs():
            signing.confirm(signature)

    # The first confirmation folded itself; the other four wait for the one fold it queued.
    assert kept(petition)[0] == 1
    assert Tally.objects.count() == 4
    assert broker.waiting == [("petitions.tasks.fold_counts", (petition.pk,), 60)]

    broker.waiting *= 2  # a message may be delivered twice: the second changes nothing
    assert broker.run() == [4, 0]
    assert kept(petition) == from_rows(petition) == (5, {"KR": 2, "GB": 2, "JP": 1}, 5)


def test_a_fold_that_fails_after_the_commit_loses_nothing(petition, broker):
    def connection_lost_while_folding(execute, sql, params, many, context):
        if sql.startswith("DELETE") and Tally._meta.db_table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(connection_lost_while_folding), on_commit_runs():
        outcome = signing.confirm(pending(petition, 1)[0])

    assert outcome == signing.Confirmation.CONFIRMED
    assert kept(petition)[0] == 0
    assert Tally.objects.count() == 1
    assert broker.run() == [1]  # the fold it queued, with the database back
    assert kept(petition)[0] == 1


def test_the_periodic_fold_catches_tallies_a_lost_task_left(petition):
    other = make_petition(petition.campaign, "other")
    for signature in pending(petition, 2) + pending(other, 3):
        signing.confirm(signature)

    assert tasks.fold_counts.apply().get() == 5

    assert kept(petition)[0] == 2
    assert kept(other)[0] == 3


def test_invalidating_takes_signatures_off_every_count(petition):
    signatures = pending(petition, 4, countries=("KR", "KR", "GB", "JP"))
    for signature in signatures:
        signing.confirm(signature)

    changed = moderation.invalidate_signatures(
        Signature.objects.filter(pk__in=[signatures[0].pk, signatures[2].pk])
    )

    assert changed == 2
    a_moment_later()
    assert kept(petition) == from_rows(petition) == (2, {"KR": 1, "JP": 1}, 2)


def test_withdrawing_takes_signatures_off_every_count(client, superuser, petition):
    signatures = pending(petition, 3, countries=("KR", "GB", "GB"))
    for signature in signatures:
        signing.confirm(signature)
    client.force_login(superuser)

    client.post(
        "/admin/petitions/signature/",
        {"action": "withdraw", "confirmed": "yes", "_selected_action": [signatures[1].pk]},
    )

    assert Signature.objects.get(pk=signatures[1].pk).status == Signature.Status.WITHDRAWN
    a_moment_later()
    assert kept(petition) == from_rows(petition) == (2, {"KR": 1, "GB": 1}, 2)
    assert signing.confirm(signatures[1]) == signing.Confirmation.NOT_COUNTED


def test_the_recount_repairs_tampered_country_and_hourly_counts(petition, caplog):
    for signature in pending(petition, 3, countries=("KR", "GB", "GB")):
        signing.confirm(signature)
    a_moment_later()
    CountryCount.objects.filter(petition=petition, country="GB").update(count=7)
    HourlyCount.objects.filter(petition=petition).update(count=40)

    with caplog.at_level(logging.WARNING):
        before, after = signing.recount(petition)

    assert before == after == 3
    assert kept(petition) == (3, {"KR": 1, "GB": 2}, 3)
    assert "country counts drifted" in caplog.text
    assert "hour counts drifted" in caplog.text


def test_a_recount_of_exact_counts_changes_and_logs_nothing(petition, caplog):
    for signature in pending(petition, 3):
        signing.confirm(signature)

    with caplog.at_level(logging.WARNING):
        assert signing.recount(petition) == (3, 3)

    assert caplog.text == ""


def test_presenting_folds_waiting_tallies_into_the_presented_count(petition, settings):
    for signature in pending(petition, 3):
        signing.confirm(signature)

    presentation = presenting.present_petition(
        petition, presented_on=timezone.localdate(), place="Embassy", recipient="Ambassador",
        presented_by="Campaign staff",
    )  # fmt: skip

    assert presentation.online_count == 3
    assert kept(petition)[0] == 3


# PostgreSQL: real concurrency, each thread with its own connection.


def run_in_threads(work, items, threads: int = 8) -> list:
    results: list = []
    lock = threading.Lock()
    chunks = [items[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads)

    def worker(chunk):
        try:
            barrier.wait()
            for item in chunk:
                result = work(item)
                with lock:
                    results.append(result)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_many_threads_confirming_while_folds_run_count_every_signature_once(campaign, settings):
    petition = make_petition(campaign, "viral")
    signatures = pending(petition, 400, countries=("KR", "GB", "JP", "US", "FR"))
    # Every signature confirmed twice, from different threads, as double clicks and retries do.
    work = signatures + signatures[::-1]
    stop = threading.Event()

    def folding():
        try:
            while not stop.is_set():
                counting.fold(petition.pk)
        finally:
            connections.close_all()

    folders = [threading.Thread(target=folding) for _ in range(2)]  # a fold task run twice
    for folder in folders:
        folder.start()
    try:
        results = run_in_threads(signing.confirm, work)
    finally:
        stop.set()
        for folder in folders:
            folder.join()
    counting.fold_all()

    assert results.count(signing.Confirmation.CONFIRMED) == 400
    assert (
        kept(petition)
        == from_rows(petition)
        == (400, {c: 80 for c in "KR GB JP US FR".split()}, 400)
    )
    assert not Tally.objects.exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_confirming_and_invalidating_at_once_keep_the_counts_exact(campaign, settings):
    petition = make_petition(campaign, "contested")
    signatures = pending(petition, 300)

    def work(signature):
        if signature.pk % 3 == 0:
            return moderation.invalidate_signatures(Signature.objects.filter(pk=signature.pk))
        return signing.confirm(signature)

    run_in_threads(work, signatures + signatures[::2])
    counting.fold_all()

    assert kept(petition) == from_rows(petition)
    assert kept(petition)[0] == petition.signatures.filter(status="confirmed").count() > 0


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_no_signature_counts_after_the_petition_is_presented(campaign, settings):
    petition = make_petition(campaign, "presented-mid-flow")
    signatures = pending(petition, 300)
    presented = threading.Event()

    def work(signature):
        if signature is signatures[150]:
            presentation = presenting.present_petition(
                petition, presented_on=timezone.localdate(), place="Embassy",
                recipient="Ambassador", presented_by="Campaign staff",
            )  # fmt: skip
            presented.set()
            return presentation
        return signing.confirm(signature)

    results = run_in_threads(work, signatures)
    counting.fold_all()

    (presentation,) = [r for r in results if not isinstance(r, signing.Confirmation)]
    confirmed = results.count(signing.Confirmation.CONFIRMED)
    assert presentation.online_count == confirmed == kept(petition)[0] == from_rows(petition)[0]
    assert results.count(signing.Confirmation.PETITION_CLOSED) == 299 - confirmed
    assert Petition.objects.get(pk=petition.pk).status == Petition.Status.PRESENTED


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_recount_never_waits_for_confirmations_in_flight(campaign):
    """A confirmation holds the counting lock shared; the recount takes no counting lock, so a
    viral petition's signers never queue behind it."""
    petition = make_petition(campaign, "busy")
    signing.confirm(pending(petition, 1)[0])
    Petition.objects.filter(pk=petition.pk).update(signature_count=99)
    holding, release = threading.Event(), threading.Event()

    def confirmation_in_flight():
        try:
            with transaction.atomic():
                counting.lock(petition.pk)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=confirmation_in_flight)
    thread.start()
    holding.wait(30)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        assert counting.rebuild(petition) == (99, 1)
    finally:
        release.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert kept(petition) == from_rows(petition)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_recounts_while_signatures_are_confirmed_keep_the_counts_exact(campaign, settings):
    petition = make_petition(campaign, "recounted-mid-flow")
    signatures = pending(petition, 300, countries=("KR", "GB", "JP"))
    Petition.objects.filter(pk=petition.pk).update(signature_count=5)  # drifted
    stop = threading.Event()

    def recounting():
        try:
            while not stop.is_set():
                counting.rebuild(petition)
        finally:
            connections.close_all()

    recounter = threading.Thread(target=recounting)
    recounter.start()
    try:
        run_in_threads(signing.confirm, signatures)
    finally:
        stop.set()
        recounter.join()
    counting.fold_all()

    assert kept(petition) == from_rows(petition) == (300, {c: 100 for c in ("KR", "GB", "JP")}, 300)


def test_hours_are_kept_in_utc():
    moment = datetime(2025, 3, 1, 9, 59, 59, tzinfo=UTC)
    assert counting.hour_of(moment) == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert counting.hour_of(None) is None
