"""CSV export of N signatures against PostgreSQL's own COPY, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage_bench \
        .venv/bin/python bench/export_csv.py [N]

Prints: PostgreSQL COPY of the rows to STDOUT (the floor), our export (COPY with the export's
formatting, formula neutralising and country names), the ratio, the file size and the export's
peak memory (measured in a fresh process, so nothing else counts).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from common import ROOT, petition_with  # noqa: I001
from django.db import connection

from petitions.models import Petition


def raw_copy(petition: Petition) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor, open("/dev/null", "wb") as sink:
        cursor.cursor.copy_expert(
            "COPY (SELECT * FROM petitions_signature WHERE petition_id = "
            f"{int(petition.pk)} AND status = 'confirmed') TO STDOUT WITH (FORMAT csv)",
            sink,
        )
    return time.perf_counter() - started


def our_export(slug: str) -> tuple[float, float, int]:
    """Run the export in a fresh process: (seconds, peak MB, bytes)."""
    code = (
        "import sys, time; sys.path.insert(0, 'bench'); from common import *; "
        "from petitions.documents import csv_file; "
        f"p = Petition.objects.get(slug={slug!r}); "
        "t = time.perf_counter(); out = open('/tmp/bench-export.csv', 'wb'); "
        "rows = csv_file.write_csv(p, out, include_email=True); out.close(); "
        "print(time.perf_counter() - t, peak_rss_mb(), rows)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    seconds, peak, _rows = result.stdout.split()[-3:]
    return float(seconds), float(peak), os.path.getsize("/tmp/bench-export.csv")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL: set DATABASE_URL=postgres://...")
    petition = petition_with(n)
    raw = min(raw_copy(petition) for _ in range(3))
    runs = [our_export(petition.slug) for _ in range(3)]
    seconds = min(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    size = runs[0][2]
    print(f"signatures                 {n:>12,}")
    print(f"PostgreSQL COPY TO STDOUT  {raw:>10.2f} s")
    print(f"our CSV export             {seconds:>10.2f} s   ({seconds / raw:.2f}x COPY)")
    print(f"CSV size                   {size / 1e6:>10.1f} MB")
    print(f"export peak memory         {peak:>10.1f} MB (whole process)")


if __name__ == "__main__":
    main()
