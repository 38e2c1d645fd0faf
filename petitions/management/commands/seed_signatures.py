"""Create many realistic confirmed signatures fast, for tests, demos and benchmarks."""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker

from petitions.models import Petition, Signature
from petitions.services import counting

# Faker locales, each with the country its people sign from; names in many scripts.
LOCALES = [
    ("en_GB", "GB"),
    ("en_US", "US"),
    ("ko_KR", "KR"),
    ("zh_CN", "CN"),
    ("zh_TW", "TW"),
    ("ja_JP", "JP"),
    ("ru_RU", "RU"),
    ("uk_UA", "UA"),
    ("ar_AA", "JO"),
    ("ar_SA", "SA"),
    ("he_IL", "IL"),
    ("el_GR", "GR"),
    ("vi_VN", "VN"),
    ("de_DE", "DE"),
    ("fr_FR", "FR"),
    ("es_ES", "ES"),
    ("pl_PL", "PL"),
    ("tr_TR", "TR"),
    ("cs_CZ", "CZ"),
    ("pt_BR", "BR"),
]
POOL = 400  # names and cities drawn per locale, then combined at random
BATCH = 5000


class Command(BaseCommand):
    help = "Create N confirmed signatures on a petition, with names in many scripts."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=2008)

    def handle(self, *args, slug: str, count: int, seed: int, **options) -> None:
        petition = Petition.objects.filter(slug=slug).first()
        if petition is None:
            raise CommandError(f"No petition with the slug {slug!r}.")
        if count < 1:
            raise CommandError("--count must be at least 1.")
        rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
        pools = []
        for locale, country in LOCALES:
            fake = Faker(locale)
            fake.seed_instance(seed)
            names = [fake.name() for _ in range(POOL)]
            cities = [fake.city() for _ in range(POOL // 4)]
            pools.append((names, cities, country))
        start = Signature.objects.filter(petition=petition).count()
        base = timezone.now() - timedelta(days=30)
        step = timedelta(days=30) / count
        batch: list[Signature] = []
        for n in range(count):
            names, cities, country = rng.choice(pools)
            email = f"seed-{petition.pk}-{start + n}@example.org"
            signed = base + step * n
            batch.append(
                Signature(
                    petition=petition,
                    name=rng.choice(names)[:200],
                    email=email,
                    email_canonical=email,
                    country=country,
                    city=rng.choice(cities)[:100] if rng.random() < 0.85 else "",
                    status=Signature.Status.CONFIRMED,
                    created_at=signed,
                    consented_at=signed,
                    verified_at=signed + timedelta(seconds=rng.randint(20, 3600)),
                    confirmations_sent=1,
                )
            )
            if len(batch) == BATCH:
                self._insert(batch)
                batch = []
        self._insert(batch)
        counting.rebuild(petition)
        petition.refresh_from_db()
        self.stdout.write(f"Created {count:,} signatures on {slug}; now {petition.total_count:,}")

    def _insert(self, batch: list[Signature]) -> None:
        if batch:
            with transaction.atomic():
                Signature.objects.bulk_create(batch)
