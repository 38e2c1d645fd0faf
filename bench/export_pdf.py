"""The presentation document (PDF) of N signatures: time and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/safe_passage_bench \
        .venv/bin/python bench/export_pdf.py [N]

The document is built in a fresh process (fonts already cached), so the peak memory printed is
what building it takes. Names come from seed_signatures: 20 locales in many scripts, about a
tenth of them Arabic or Hebrew (the slower, shaped path).
"""

from __future__ import annotations

import subprocess
import sys

from common import ROOT, petition_with
from django.db import connection

from petitions.documents.fonts import static_fonts


def build(slug: str) -> tuple[float, float, int, int]:
    code = (
        "import sys, time; sys.path.insert(0, 'bench'); from common import *; "
        "from pathlib import Path; from petitions.documents.pdf import presentation_pdf; "
        f"p = Petition.objects.get(slug={slug!r}); "
        "t = time.perf_counter(); rows, _ = presentation_pdf(p, Path('/tmp/bench-export.pdf')); "
        "size = Path('/tmp/bench-export.pdf').stat().st_size; "
        "print(time.perf_counter() - t, peak_rss_mb(), rows, size)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    seconds, peak, rows, size = result.stdout.split()[-4:]
    return float(seconds), float(peak), int(rows), int(size)


def pages() -> int:
    info = subprocess.run(["pdfinfo", "/tmp/bench-export.pdf"], capture_output=True, text=True)
    return next(
        (int(line.split()[-1]) for line in info.stdout.splitlines() if line.startswith("Pages:")), 0
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    static_fonts()
    petition = petition_with(n)
    seconds, peak, rows, size = min(build(petition.slug) for _ in range(2))
    print(f"database                   {connection.vendor}")
    print(f"signatures listed          {rows:>12,}")
    print(f"pages                      {pages():>12,}")
    print(f"build time                 {seconds:>10.2f} s")
    print(f"PDF size                   {size / 1e6:>10.1f} MB")
    print(f"peak memory                {peak:>10.1f} MB (whole process)")


if __name__ == "__main__":
    main()
