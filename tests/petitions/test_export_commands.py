"""The command-line tools: export_petition writes a petition's CSV or PDF to a file;
seed_signatures fills a petition with realistic confirmed signatures."""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AuditEvent
from petitions.documents import csv_file
from petitions.models import Petition, Signature
from petitions.services import counting
from tests.conftest import make_signature
from tests.petitions.test_exports import HEADER_WITHOUT_EMAIL


def parse_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def signed_petition(petition) -> Petition:
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for minutes, (name, email) in enumerate(
        [("김민지", "min-ji@example.org"), ("محمد العلي", "ali@example.org"), ("Ann", "ann@x.org")]
    ):
        make_signature(
            petition,
            email=email,
            name=name,
            status=Signature.Status.CONFIRMED,
            verified_at=start + timedelta(minutes=minutes),
        )
    make_signature(petition, email="pending@example.org")
    counting.rebuild(petition)
    petition.refresh_from_db()
    return petition


# export_petition -----------------------------------------------------------------------------


def test_export_petition_writes_a_csv_without_emails(signed_petition, tmp_path, organisation):
    target = tmp_path / "signatures.csv"

    output = run("export_petition", "safe-passage", "--format", "csv", "--output", str(target))

    assert output.strip() == f"Wrote 3 signatures to {target}"
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = parse_csv(data)
    assert table[0] == HEADER_WITHOUT_EMAIL
    assert [row[1] for row in table[1:]] == ["김민지", "محمد العلي", "Ann"]
    event = AuditEvent.objects.get()
    assert (event.actor, event.organisation, event.action, event.target) == (
        None,
        organisation,
        "csv export",
        str(signed_petition),
    )
    assert event.detail == {"rows": 3, "include_email": False, "by": "command line"}


def test_export_petition_adds_emails_when_asked(signed_petition, tmp_path):
    target = tmp_path / "signatures.csv"

    run(
        "export_petition",
        "safe-passage",
        "--format",
        "csv",
        "--output",
        str(target),
        "--include-email",
    )

    table = parse_csv(target.read_bytes())
    assert table[0][2] == "email"
    assert [row[2] for row in table[1:]] == ["min-ji@example.org", "ali@example.org", "ann@x.org"]
    assert AuditEvent.objects.get().detail["include_email"] is True


def test_export_petition_writes_the_presentation_pdf(signed_petition, tmp_path):
    target = tmp_path / "petition.pdf"

    output = run("export_petition", "safe-passage", "--format", "pdf", "--output", str(target))

    assert "Wrote 3 signatures" in output
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    event = AuditEvent.objects.get()
    assert event.action == "pdf export"
    assert event.detail == {
        "rows": 3,
        "sha256": hashlib.sha256(data).hexdigest(),
        "by": "command line",
    }


def test_an_unknown_slug_is_an_error(db, tmp_path):
    target = tmp_path / "x.csv"

    with pytest.raises(CommandError, match="No petition with the slug 'nope'"):
        run("export_petition", "nope", "--format", "csv", "--output", str(target))

    assert not target.exists()
    assert not AuditEvent.objects.exists()


def test_a_missing_folder_is_an_error(signed_petition, tmp_path):
    target = tmp_path / "no-such-folder" / "x.csv"

    with pytest.raises(CommandError, match="does not exist"):
        run("export_petition", "safe-passage", "--format", "csv", "--output", str(target))

    assert not target.parent.exists()
    assert not AuditEvent.objects.exists()


def test_a_pdf_never_holds_emails(signed_petition, tmp_path):
    target = tmp_path / "petition.pdf"

    with pytest.raises(CommandError, match="never holds email addresses"):
        run(
            "export_petition",
            "safe-passage",
            "--format",
            "pdf",
            "--output",
            str(target),
            "--include-email",
        )

    assert not target.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["safe-passage", "--format", "xlsx", "--output", "x"],
        ["safe-passage", "--output", "x"],
        ["safe-passage", "--format", "csv"],
    ],
)
def test_a_bad_format_or_missing_option_is_an_error(signed_petition, args):
    with pytest.raises(CommandError):
        run("export_petition", *args)


# seed_signatures -----------------------------------------------------------------------------


def script_of(name: str) -> str:
    """The script of a name's first letter: LATIN, HANGUL, ARABIC, CJK, CYRILLIC, …"""
    letter = next(ch for ch in name if ch.isalpha())
    return unicodedata.name(letter).split()[0]


def test_seed_signatures_creates_confirmed_signatures_in_many_scripts(signed_petition):
    before = Signature.objects.filter(petition=signed_petition).count()

    output = run("seed_signatures", "safe-passage", "--count", "300")

    seeded = Signature.objects.filter(petition=signed_petition, email__startswith="seed-")
    assert Signature.objects.filter(petition=signed_petition).count() == before + 300
    assert seeded.count() == 300
    assert set(seeded.values_list("status", flat=True)) == {Signature.Status.CONFIRMED}
    assert not seeded.filter(verified_at__isnull=True).exists()
    assert not seeded.filter(verified_at__gt=timezone.now() + timedelta(hours=1)).exists()
    assert seeded.values("email_canonical").distinct().count() == 300
    scripts = {script_of(name) for name in seeded.values_list("name", flat=True)}
    assert {"LATIN", "HANGUL", "CJK", "ARABIC", "CYRILLIC"} <= scripts
    assert seeded.values("country").distinct().count() >= 10
    signed_petition.refresh_from_db()
    assert signed_petition.signature_count == 3 + 300
    assert output.strip() == "Created 300 signatures on safe-passage; now 303"


def test_seeding_twice_adds_up(signed_petition):
    run("seed_signatures", "safe-passage", "--count", "300")
    run("seed_signatures", "safe-passage", "--count", "300", "--seed", "7")

    signed_petition.refresh_from_db()
    assert signed_petition.signature_count == 603
    assert signed_petition.signatures.filter(status=Signature.Status.CONFIRMED).count() == 603


def test_seeded_signatures_are_exported(signed_petition):
    run("seed_signatures", "safe-passage", "--count", "300")
    out = io.BytesIO()

    rows = csv_file.write_csv(signed_petition, out, include_email=True)

    table = parse_csv(out.getvalue())
    assert rows == 303
    assert len(table) == 1 + 303
    assert [row[0] for row in table[1:]] == [str(n) for n in range(1, 304)]
    assert all(row[4] for row in table[1:])  # every country written as a name


def test_seed_signatures_refuses_an_unknown_slug_or_a_count_below_one(signed_petition):
    with pytest.raises(CommandError, match="No petition with the slug"):
        run("seed_signatures", "nope", "--count", "10")
    with pytest.raises(CommandError, match="at least 1"):
        run("seed_signatures", "safe-passage", "--count", "0")

    signed_petition.refresh_from_db()
    assert signed_petition.signature_count == 3
