"""Exact counts that stay cheap to write when a petition goes viral.

Every change to what counts (a confirmation, a confirmed signature invalidated or withdrawn) is
written as Tally rows in the same transaction as the signature's status. fold() later moves a
petition's tallies into its kept counts (Petition.signature_count, CountryCount, HourlyCount):
it deletes the tallies and adds them up in one transaction, under the petition row's lock, so
each is counted once however many folds run, twice delivered or side by side. Confirmations
insert rows and never wait for each other; only fold() updates the counter rows, once per batch.
docs/architecture.md gives the measurements behind this choice.

Where tasks run in-process (no Redis: the embedded default and the unit tests), confirm() folds
at once, inside its own transaction. Otherwise, after its commit, a confirmation folds the
petition's tallies itself if no process has done so in the last COUNT_FOLD_INTERVAL_SECONDS (a
cache key decides), so the counts follow within that interval without waiting for a Celery
worker busy with emails. The process that folds also queues a fold_counts task for one interval
later, for the tallies of the last confirmations of a burst, and beat runs fold_all() every 10 s
for anything a lost task left behind.

Writers of tallies hold the petition's counting lock shared; presenting holds it exclusively,
so that no tally is written while it closes signing and seals the counts. On PostgreSQL it is an
advisory transaction lock; SQLite runs one write transaction at a time anyway. rebuild() takes no
counting lock: it compares the rows with the kept counts in one snapshot and adds the difference.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F
from django.db.models.functions import TruncHour
from django.utils import timezone

from config.celery import queue
from petitions.models import CountryCount, HourlyCount, Petition, Signature, Tally

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x5AFE  # the first key of the two-key advisory lock; the petition id is the other


def lock(petition_id: int, *, exclusive: bool = False) -> None:
    """Hold the petition's counting lock until the transaction ends."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s, %s)", [LOCK_NAMESPACE, petition_id])


def hour_of(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def add(petition_id: int, changes: Iterable[tuple[str, datetime, int]]) -> None:
    """Record (country, moment confirmed, +1 or -1) changes; call inside the transaction that
    changes the signatures, holding lock(petition_id)."""
    Tally.objects.bulk_create(
        Tally(petition_id=petition_id, country=country, hour=hour_of(moment), delta=delta)
        for country, moment, delta in changes
    )
    if settings.COUNT_FOLD_INLINE:
        fold(petition_id)
    else:
        transaction.on_commit(lambda: fold_soon(petition_id))


def fold_soon(petition_id: int) -> None:
    """Fold now if no process has in the last interval, and queue the fold that will take the
    tallies written until then; otherwise leave them to those. Never fails the request. While
    Redis is down the cache key is never found and the fold cannot be queued, so every
    confirmation folds its own tally."""
    interval = settings.COUNT_FOLD_INTERVAL_SECONDS  # whole seconds: the cache API rounds down
    try:
        if not cache.add(f"folded:{petition_id}", True, timeout=interval):
            return
        queue(fold, petition_id, countdown=interval)
        fold(petition_id)
    except Exception:
        log.exception("could not fold petition %s now; the periodic fold will", petition_id)


def fold(petition_id: int) -> int:
    """Move the petition's tallies into its kept counts; return how many were folded."""
    tally = connection.ops.quote_name(Tally._meta.db_table)
    with transaction.atomic():
        # order_by(): the default ordering would join (and lock) the campaign too.
        list(Petition.objects.select_for_update().filter(pk=petition_id).order_by().values("pk"))
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {tally} WHERE petition_id = %s RETURNING country, hour, delta",  # noqa: S608 - model names
                [petition_id],
            )
            rows = cursor.fetchall()
        if not rows:
            return 0
        countries: Counter = Counter()
        hours: Counter = Counter()
        for country, hour, delta in rows:
            countries[country] += delta
            if hour is not None:
                hours[hour] += delta
        _add_to_counts(petition_id, sum(countries.values()), countries, hours)
    return len(rows)


def _add_to_counts(petition_id: int, total: int, countries: Counter, hours: Counter) -> None:
    """Add to the kept counts; call holding the petition row's lock, in a transaction."""
    Petition.objects.filter(pk=petition_id).update(
        signature_count=F("signature_count") + total, counts_changed_at=timezone.now()
    )
    _add_to(CountryCount, "country", petition_id, countries)
    _add_to(HourlyCount, "hour", petition_id, hours)


def _add_to(model, key: str, petition_id: int, changes: Counter) -> None:
    changes = {value: n for value, n in changes.items() if n}
    if not changes:
        return
    q = connection.ops.quote_name
    table, count = q(model._meta.db_table), q("count")
    values = ", ".join(["(%s, %s, %s)"] * len(changes))
    params = [p for value, n in changes.items() for p in (petition_id, value, n)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (petition_id, {q(key)}, {count}) VALUES {values} "  # noqa: S608 - model names
            f"ON CONFLICT (petition_id, {q(key)}) DO UPDATE SET {count} = {table}.{count} + "
            f"excluded.{count}",
            params,
        )


def fold_all() -> int:
    """Fold every petition with tallies waiting; return how many tallies were folded."""
    waiting = Tally.objects.values_list("petition_id", flat=True).distinct()
    return sum(fold(petition_id) for petition_id in list(waiting))


@contextmanager
def snapshot() -> Iterator[None]:
    """A transaction whose reads all see the database as it was at its first one (PostgreSQL's
    REPEATABLE READ), for reading the rows and the counts kept from them together. Inside a
    transaction already begun, that transaction's own view."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def rebuild(petition: Petition) -> tuple[int, int]:
    """Make the kept counts (total, by country, by hour) equal the counted rows, without holding
    signing still; return the online count (before, after), before being the kept count plus
    the tallies not yet folded.

    1. In one snapshot, count the rows by country and by hour, and read the kept counts and the
       waiting tallies. Confirming, moderating and folding each change rows and counts (or
       tallies) in one transaction, so the two agree in any snapshot unless they drifted.
    2. Add the difference to the kept counts under the petition row's lock, as fold() adds
       tallies: what changed after the snapshot stays counted, and nobody waits for the count."""
    with snapshot():
        counted = Signature.objects.filter(petition_id=petition.pk).counted().order_by()
        rows = {
            "country": Counter(dict(counted.values_list("country").annotate(n=Count("pk")))),
            "hour": Counter(
                dict(
                    counted.exclude(verified_at=None)
                    .annotate(bucket=TruncHour("verified_at", tzinfo=UTC))
                    .values_list("bucket")
                    .annotate(n=Count("pk"))
                )
            ),
        }
        before = Petition.objects.values_list("signature_count", flat=True).get(pk=petition.pk)
        kept = {
            "country": Counter(
                dict(CountryCount.objects.filter(petition=petition).values_list("country", "count"))
            ),
            "hour": Counter(
                dict(HourlyCount.objects.filter(petition=petition).values_list("hour", "count"))
            ),
        }
        for country, hour, delta in Tally.objects.filter(petition=petition).values_list(
            "country", "hour", "delta"
        ):
            before += delta
            kept["country"][country] += delta
            if hour is not None:
                kept["hour"][hour] += delta
    after = sum(rows["country"].values())
    drift = {key: _difference(rows[key], kept[key]) for key in rows}
    if before != after or any(drift.values()):
        with transaction.atomic():
            list(
                Petition.objects.select_for_update().filter(pk=petition.pk).order_by().values("pk")
            )
            _add_to_counts(petition.pk, after - before, drift["country"], drift["hour"])
            CountryCount.objects.filter(petition=petition, count=0).delete()
            HourlyCount.objects.filter(petition=petition, count=0).delete()
        for key, changes in drift.items():
            if changes and before == after:
                log.warning("petition %s %s counts drifted", petition.pk, key)
    return before, after


def _difference(rows: Counter, kept: Counter) -> Counter:
    return Counter({k: rows[k] - kept[k] for k in rows.keys() | kept.keys() if rows[k] != kept[k]})
