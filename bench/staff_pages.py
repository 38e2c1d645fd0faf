"""The staff's pages as a petition grows from 1,000 to 1,000,000 signatures (issue 16).

    .venv/bin/python bench/staff_pages.py [N]     # N: the large size, 1,000,000 by default

On PostgreSQL (BENCH_DATABASE_URL, default a scratch database safe_passage_bench_staff that
the first run creates; later runs reuse its signatures). Our organisation's petition gets 1,000
signatures, another organisation's 617 (its staff's list must not slow as ours grows). Each
page is then asked for, as our owner or theirs through Django's test client (the whole admin
stack, second factor passed), five times after one warm-up; the median time and the number of
queries are printed. Then our petition is seeded to N and the pages timed again, and each
page's growth is printed.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import sys
import time

from scratch import scratch_database

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/safe_passage_bench_staff"
)

scratch_database(DATABASE_URL, afresh=False)
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

from common import grown_to  # noqa: E402, I001 - Django, set up on the database above
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from accounts.models import Membership, Organisation, User  # noqa: E402
from campaigns.models import Campaign  # noqa: E402
from petitions.admin.paging import CappedPaginator  # noqa: E402
from petitions.admin.signatures import SignatureAdmin  # noqa: E402
from petitions.models import Petition, Signature  # noqa: E402

SMALL = 1_000
THEIRS = 617
RUNS = 5
# Each page's growth from 1,000 to 1,000,000 signatures (docs/performance.md); printed, not
# asserted: the machine's speed drifts.
TARGETS = {
    "signature list, first page": "3x",
    "signature list, a deep page": "3x",
    "search by address": "3x",
    "search by name": "5x",
    "another organisation's list": "none beyond noise",
    "campaign dashboard": "3x",
}


def owner_client(username: str, organisation: Organisation) -> Client:
    """A client logged in as the organisation's owner, second factor passed."""
    user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": Membership.Role.OWNER}
    )
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def bench_petition(slug: str) -> Petition:
    """The organisation `slug`'s campaign and petition, created on first use."""
    organisation, _ = Organisation.objects.get_or_create(slug=slug, defaults={"name": slug})
    campaign, _ = Campaign.objects.get_or_create(
        slug=slug, defaults={"organisation": organisation, "title_en": slug, "status": "live"}
    )
    petition, _ = Petition.objects.get_or_create(
        slug=slug,
        defaults={
            "campaign": campaign,
            "title_en": f"{slug} petition",
            "target_en": "The Government of the People's Republic of China",
            "statement_en": "Benchmark.",
            "status": Petition.Status.OPEN,
        },
    )
    return petition


def pages(petition: Petition) -> dict[str, tuple[str, str]]:
    """Each page: (who asks for it, its URL)."""
    signatures = reverse("admin:petitions_signature_changelist")
    sample = petition.signatures.order_by("pk").values_list("email", "name").first()
    family = sample[1].split()[0]
    # The deepest page listed: the last of 1,000 (page 10); of a million, the last page the
    # list pages to (page 100: CappedPaginator's cap of 10,000 rows, 100 a page).
    listed = min(petition.signatures.count(), CappedPaginator.CAP)
    deep = math.ceil(listed / SignatureAdmin.list_per_page)
    return {
        "signature list, first page": ("ours", signatures),
        "signature list, a deep page": ("ours", f"{signatures}?p={deep}"),
        "search by address": ("ours", f"{signatures}?q={sample[0]}"),
        "search by name": ("ours", f"{signatures}?q={family}"),
        "another organisation's list": ("theirs", signatures),
        "campaign dashboard": (
            "ours",
            reverse("admin:campaigns_campaign_dashboard", args=[petition.campaign_id]),
        ),
    }


def timed(client: Client, url: str) -> tuple[float, int]:
    """Median milliseconds of RUNS requests after a warm-up, and the queries of one."""
    assert client.get(url).status_code == 200, url
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(times), len(queries)


def measure(petition: Petition, clients: dict[str, Client]) -> dict[str, tuple[float, int]]:
    return {name: timed(clients[who], url) for name, (who, url) in pages(petition).items()}


def main() -> None:
    logging.disable(logging.INFO)  # each login's lines from django-axes
    large = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL (BENCH_DATABASE_URL=postgres://...)")
    call_command("migrate", verbosity=0)
    theirs = grown_to(bench_petition("bench-theirs"), THEIRS)
    ours = grown_to(bench_petition("bench-ours"), SMALL)
    clients = {
        "ours": owner_client("bench-owner", ours.campaign.organisation),
        "theirs": owner_client("bench-other-owner", theirs.campaign.organisation),
    }
    print(f"database {DATABASE_URL}; {RUNS} requests per page after a warm-up, median")
    small = measure(ours, clients)
    ours = grown_to(ours, large)
    big = measure(ours, clients)
    print(f"\n{'page':34} {SMALL:>12,} {large:>14,}   growth   queries   target")
    for (name, (before, q_before)), (_, (after, q_after)) in zip(
        small.items(), big.items(), strict=True
    ):
        print(
            f"{name:34} {before:9.1f} ms {after:11.1f} ms {after / before:7.1f}x"
            f"   {q_before:>2} -> {q_after:<2}  {TARGETS[name]}"
        )
    counted = Signature.objects.filter(petition=ours).count()
    print(f"\nour petition: {counted:,} signatures; theirs: {theirs.signatures.count():,}")


if __name__ == "__main__":
    main()
