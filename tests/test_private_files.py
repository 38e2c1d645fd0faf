"""Files holding signers' personal data are readable by their user only, 0600 in 0700 folders,
wherever the settings put them: the SQLite database and its -wal and -shm files, email written
to files, presentation documents and exports (config/private_files.py)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from petitions.models import Export, Presentation, Signature, private_storage
from petitions.services import counting, exporting, presenting
from tests.conftest import make_signature, on_commit_runs
from tests.test_settings import start


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def signed_petition(petition):
    make_signature(
        petition,
        "min-ji@example.org",
        status=Signature.Status.CONFIRMED,
        verified_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
    )
    counting.rebuild(petition)
    petition.refresh_from_db()
    return petition


@pytest.fixture
def private_root(settings, tmp_path) -> Path:
    """PRIVATE_MEDIA_ROOT somewhere of the operator's choosing, not yet made."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "elsewhere" / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.mark.parametrize("format", ["csv", "pdf"])
def test_a_background_export_is_written_private(signed_petition, owner, private_root, format):
    with on_commit_runs():
        export = exporting.request_export(signed_petition, format=format, include_email=True)
    export.refresh_from_db()

    assert export.status == Export.Status.DONE, export.error
    written = private_root / export.file.name
    assert mode(written) == 0o600
    assert mode(written.parent) == mode(private_root) == 0o700


def test_the_presentation_document_is_written_private(signed_petition, owner, private_root):
    with on_commit_runs():
        presentation = presenting.present_petition(
            signed_petition,
            user=owner,
            presented_on=timezone.now().date(),
            place="the Chinese Embassy, London",
            recipient="the Ambassador",
            presented_by="Olivia Owen",
        )
    presentation.refresh_from_db()

    assert presentation.status == Presentation.Status.READY, presentation.error
    written = private_root / presentation.document.name
    assert mode(written) == 0o600
    assert mode(written.parent) == mode(private_root) == 0o700


def test_a_file_saved_through_the_private_storage_is_private(private_root):
    name = private_storage().save("exports/by-hand.csv", ContentFile(b"name,email\n"))

    assert mode(private_root / name) == 0o600
    assert mode(private_root / "exports") == 0o700


def test_folders_made_before_are_tightened_when_next_written(signed_petition, private_root):
    (private_root / "exports").mkdir(parents=True, mode=0o755)
    os.chmod(private_root, 0o755)  # noqa: S103 - as an older version left it

    with on_commit_runs():
        exporting.request_export(signed_petition, format="csv", include_email=False)

    assert mode(private_root) == mode(private_root / "exports") == 0o700


def test_a_failed_export_leaves_no_part_written_file(signed_petition, private_root, monkeypatch):
    def fail(petition, out, include_email, progress):
        out.write(b"min-ji@example.org\n")
        raise OSError("disk full")

    monkeypatch.setattr("petitions.documents.csv_file.write_csv", fail)

    with on_commit_runs():
        export = exporting.request_export(signed_petition, format="csv", include_email=True)

    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert list((private_root / "exports").iterdir()) == []


def test_the_export_command_writes_a_private_file(signed_petition, tmp_path):
    output = tmp_path / "signatures.csv"

    call_command("export_petition", signed_petition.slug, format="csv", output=str(output))

    assert mode(output) == 0o600


# The embedded default, in a process of its own as `make run` starts it ------------------------

REPORT = """
import json, os, stat
from pathlib import Path
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection

def mode(path):
    return oct(stat.S_IMODE(os.stat(path).st_mode)) if os.path.exists(path) else None

with connection.cursor() as cursor:  # SQLite makes -wal and -shm on the first write
    cursor.execute("CREATE TABLE signer (email TEXT)")
    cursor.execute("INSERT INTO signer VALUES ('min-ji@example.org')")
    database = settings.DATABASES["default"]["NAME"]
    send_mail("Confirm", "https://example.org/confirm/x/y/", None, ["min-ji@example.org"])
    mail = Path(settings.EMAIL_FILE_PATH)
    print(json.dumps({
        "var": mode(settings.VAR_DIR),
        "database": mode(database),
        "wal": mode(database + "-wal"),
        "shm": mode(database + "-shm"),
        "mail folder": mode(mail),
        "mail": [mode(path) for path in mail.iterdir()],
    }))
"""


def report(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_embedded_database_and_mail_are_private(tmp_path):
    modes = report(start(tmp_path / "var", REPORT))

    assert modes == {
        "var": "0o700",
        "database": "0o600",
        "wal": "0o600",
        "shm": "0o600",
        "mail folder": "0o700",
        "mail": ["0o600"],
    }


def test_a_database_elsewhere_is_private_and_one_made_before_is_tightened(tmp_path):
    database = tmp_path / "data" / "signatures.sqlite3"
    database.parent.mkdir()
    database.touch(mode=0o644)
    Path(f"{database}-wal").touch(mode=0o644)
    os.chmod(database, 0o644)

    modes = report(start(tmp_path / "var", REPORT, DATABASE_URL=f"sqlite:///{database}"))

    assert (modes["database"], modes["wal"], modes["shm"]) == ("0o600", "0o600", "0o600")
    assert mode(database.parent) == 0o755  # the operator's folder is left as it was
