"""Shared set-up for the benchmarks: Django on the configured database, a petition with N
confirmed signatures (seeded once and reused), and peak memory of a child process."""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from petitions.models import Petition, Signature  # noqa: E402
from petitions.services import counting  # noqa: E402

BENCH_SLUG = "bench-{n}"


def petition_with(n: int) -> Petition:
    """A petition with exactly n confirmed signatures, created on first use."""
    from campaigns.models import Campaign

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    campaign = Campaign.objects.get(slug="run-for-your-life")
    petition, _ = Petition.objects.get_or_create(
        slug=BENCH_SLUG.format(n=n),
        defaults={
            "campaign": campaign,
            "title_en": f"Benchmark petition ({n:,} signatures)",
            "target_en": "The Government of the People's Republic of China",
            "statement_en": "Benchmark.",
            "goal": n,
            "status": Petition.Status.OPEN,
        },
    )
    return grown_to(petition, n)


def grown_to(petition: Petition, n: int) -> Petition:
    """The bench's petition with n (confirmed) signatures: seeded on to n, or seeded afresh if
    it has more."""
    have = Signature.objects.filter(petition=petition).count()
    if have > n:
        # Signatures are never deleted through the models (they are evidence); this is the
        # bench's own petition on the bench's own database.
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Signature._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE petition_id = %s", [petition.pk])
            if connection.vendor == "postgresql":  # the deleted rows would slow what is timed
                cursor.execute(f"VACUUM ANALYZE {table}")
        counting.rebuild(petition)
        have = 0
    if have < n:
        started = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("seed_signatures", petition.slug, count=n - have, stdout=quiet)
        print(f"seeded {n - have:,} signatures in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Signature._meta.db_table)}")
    petition.refresh_from_db()
    return petition


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
