"""write_csv: the staff CSV of counted signatures.

The same tests run on SQLite (Python's csv module) and on PostgreSQL (COPY … TO STDOUT):
run this file once without DATABASE_URL and once with a PostgreSQL DATABASE_URL.
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from petitions.documents import csv_file
from petitions.models import Signature
from tests.conftest import make_petition, make_signature

# The confirmation time is in UTC, in the form spreadsheets read as a date and time.
HEADER_WITH_EMAIL = ["number", "name", "email", "city", "country", "confirmed_at_utc", "source"]
HEADER_WITHOUT_EMAIL = ["number", "name", "city", "country", "confirmed_at_utc", "source"]
BASE_TIME = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def confirmed(petition, email: str, minutes: int, **fields) -> Signature:
    """A counted signature confirmed `minutes` after BASE_TIME."""
    return make_signature(
        petition,
        email=email,
        verified_at=BASE_TIME + timedelta(minutes=minutes),
        **{"status": Signature.Status.CONFIRMED, **fields},
    )


def export_bytes(petition, include_email: bool) -> tuple[bytes, int]:
    out = io.BytesIO()
    rows = csv_file.write_csv(petition, out, include_email)
    return out.getvalue(), rows


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_file_starts_with_one_bom_and_the_header_without_email(petition):
    confirmed(petition, "a@example.org", 1)

    data, rows = export_bytes(petition, include_email=False)

    assert data.startswith(b"\xef\xbb\xbf")
    assert not data[3:].startswith(b"\xef\xbb\xbf")
    table = parse(data)
    assert table[0] == HEADER_WITHOUT_EMAIL
    assert rows == 1


def test_columns_are_in_order_and_email_is_included_only_when_asked(petition):
    confirmed(petition, "min-ji@example.org", 1, name="Kim Min-ji", city="Seoul", country="KR")

    with_email = parse(export_bytes(petition, include_email=True)[0])
    without_email = parse(export_bytes(petition, include_email=False)[0])

    assert with_email == [
        HEADER_WITH_EMAIL,
        [
            "1",
            "Kim Min-ji",
            "min-ji@example.org",
            "Seoul",
            "South Korea",
            "2025-03-01 12:01:00",
            "online",
        ],
    ]
    assert without_email == [
        HEADER_WITHOUT_EMAIL,
        ["1", "Kim Min-ji", "Seoul", "South Korea", "2025-03-01 12:01:00", "online"],
    ]
    assert b"min-ji@example.org" not in export_bytes(petition, include_email=False)[0]


def test_only_confirmed_signatures_are_listed_in_the_order_they_were_confirmed(campaign):
    petition = make_petition(campaign, "order")
    other = make_petition(campaign, "other-petition")
    # Created in one order, confirmed in another: the CSV follows the confirmations.
    confirmed(petition, "third@example.org", 30, name="Third")
    confirmed(petition, "first@example.org", 10, name="First")
    confirmed(petition, "second@example.org", 20, name="Second")
    # Two confirmed in the same instant keep the order they were created in (primary key).
    confirmed(petition, "tie-a@example.org", 40, name="Tie A")
    confirmed(petition, "tie-b@example.org", 40, name="Tie B")
    make_signature(petition, email="pending@example.org", name="Pending")
    make_signature(
        petition, email="invalid@example.org", name="Invalid", status=Signature.Status.INVALIDATED
    )
    make_signature(
        petition, email="withdrawn@example.org", name="Withdrawn", status=Signature.Status.WITHDRAWN
    )
    confirmed(other, "elsewhere@example.org", 5, name="Other petition")

    data, rows = export_bytes(petition, include_email=False)

    table = parse(data)[1:]
    assert [row[0] for row in table] == ["1", "2", "3", "4", "5"]
    assert [row[1] for row in table] == ["First", "Second", "Third", "Tie A", "Tie B"]
    assert rows == 5


def test_a_petition_without_counted_signatures_gives_just_the_header(petition):
    make_signature(petition, email="pending@example.org")

    data, rows = export_bytes(petition, include_email=True)

    assert rows == 0
    assert parse(data) == [HEADER_WITH_EMAIL]


def test_confirmation_times_are_written_in_utc(petition):
    seoul = timezone(timedelta(hours=9))
    make_signature(
        petition,
        email="a@example.org",
        status=Signature.Status.CONFIRMED,
        verified_at=datetime(2025, 3, 2, 8, 30, 15, 123456, tzinfo=seoul),
    )

    table = parse(export_bytes(petition, include_email=False)[0])

    assert table[1][4] == "2025-03-01 23:30:15"


# Full-width signs, and every other character NFKC folds into a formula sign.
FOLDED_SIGNS = ["＝", "﹦", "＋", "－", "＠", "⁺", "₊", "⁼", "₌", "﹢", "﹣", "﹫", "⩵", "⩶", "﬩"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", *FOLDED_SIGNS])
def test_cells_a_spreadsheet_would_run_are_prefixed_with_an_apostrophe(petition, start):
    """Also behind a full-width sign, or any other character NFKC folds into one."""
    confirmed(
        petition,
        f"{start}cmd@example.org",
        1,
        name=f'{start}HYPERLINK("http://evil.example")',
        city=f"{start}1+2",
    )

    table = parse(export_bytes(petition, include_email=True)[0])

    number, name, email, city, *_ = table[1]
    assert name == f'\'{start}HYPERLINK("http://evil.example")'
    assert email == f"'{start}cmd@example.org"
    assert city == f"'{start}1+2"
    assert number == "1"


def test_the_formula_starts_are_every_character_whose_nfkc_form_starts_with_a_sign():
    signs = tuple(csv_file.FORMULA_SIGNS)
    found = {
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.normalize("NFKC", chr(code)).startswith(signs)
    }

    assert found == csv_file.FORMULA_STARTS


# Names and towns as people write them, in many scripts: none is touched.
ORDINARY = [
    ("김민지", "서울"),
    ("محمد العلي", "القاهرة"),
    ("דוד לוי", "תל אביב"),
    ("王小明", "北京"),
    ("山田 花子", "東京"),
    ("Иван Петров", "Москва"),
    ("Ελένη Παππά", "Αθήνα"),
    ("देवी प्रसाद", "दिल्ली"),
    ("สมชาย ใจดี", "กรุงเทพ"),
    ("Nguyễn Văn An", "Hà Nội"),
    ("Ｓａｔｏ", "Ｋｙｏｔｏ"),  # full-width letters are not signs
    ("O'Brien", "Saint-Denis"),
]


@pytest.mark.parametrize(("name", "city"), ORDINARY)
def test_ordinary_names_in_every_script_are_left_as_typed(petition, name, city):
    confirmed(petition, "a@example.org", 1, name=name, city=city)

    table = parse(export_bytes(petition, include_email=False)[0])

    assert table[1][1:3] == [name, city]


def test_harmless_cells_are_left_as_typed(petition):
    confirmed(
        petition,
        "o.brien@example.org",
        1,
        name='O\'Brien, "Jim" = 1',
        city="Saint-Denis",
    )

    table = parse(export_bytes(petition, include_email=True)[0])

    assert table[1][1:4] == ['O\'Brien, "Jim" = 1', "o.brien@example.org", "Saint-Denis"]


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\r"])
def test_a_line_break_inside_a_name_stays_inside_its_cell(petition, line_break):
    confirmed(petition, "a@example.org", 1, name=f"First line{line_break}second line")
    confirmed(petition, "b@example.org", 2, name="Next")

    table = parse(export_bytes(petition, include_email=False)[0])

    assert [row[1] for row in table[1:]] == [f"First line{line_break}second line", "Next"]


def test_names_in_hangul_and_arabic_round_trip(petition):
    confirmed(petition, "minji@example.org", 1, name="김민지", city="서울", country="KR")
    confirmed(petition, "ali@example.org", 2, name="محمد العلي", city="القاهرة", country="EG")
    confirmed(petition, "ivan@example.org", 3, name="Иван Петров", city="Москва", country="RU")

    data, _ = export_bytes(petition, include_email=False)

    table = parse(data)
    assert [row[1:4] for row in table[1:]] == [
        ["김민지", "서울", "South Korea"],
        ["محمد العلي", "القاهرة", "Egypt"],
        ["Иван Петров", "Москва", "Russia"],
    ]
    assert "김민지".encode() in data


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("GB", "United Kingdom"),
        ("KP", "North Korea"),
        ("TW", "Taiwan"),
        ("US", "United States of America"),
    ],
)
def test_the_country_is_written_as_its_english_name(petition, code, name):
    confirmed(petition, "a@example.org", 1, country=code)

    table = parse(export_bytes(petition, include_email=False)[0])

    assert table[1][3] == name


def test_the_python_writer_reports_progress(petition, monkeypatch):
    monkeypatch.setattr(csv_file, "PROGRESS_EVERY", 2)
    for n in range(5):
        confirmed(petition, f"s{n}@example.org", n)
    progress: list[int] = []
    out = io.BytesIO()

    rows = csv_file._python_csv(petition, out, False, progress.append)

    assert rows == 5
    assert progress == [2, 4]
    assert len(parse(out.getvalue())) == 6  # the header and five rows


def test_the_output_file_stays_open_for_the_caller(petition):
    confirmed(petition, "a@example.org", 1)
    out = io.BytesIO()

    csv_file.write_csv(petition, out, include_email=False)

    assert not out.closed
    out.write(b"more")


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path runs on PostgreSQL only"
)


@postgresql_only
def test_postgresql_exports_with_copy(petition, monkeypatch):
    confirmed(petition, "a@example.org", 1)

    def refuse(*args, **kwargs):
        raise AssertionError("the Python writer ran on PostgreSQL")

    monkeypatch.setattr(csv_file, "_python_csv", refuse)

    data, rows = export_bytes(petition, include_email=True)

    assert rows == 1
    assert len(parse(data)) == 2


@postgresql_only
def test_copy_and_the_python_writer_give_the_same_table(petition):
    confirmed(petition, "min-ji@example.org", 1, name="김민지", city="=서울", country="KR")
    confirmed(petition, "@ali@example.org", 2, name='محمد, "Ali"', city="", country="EG")
    confirmed(petition, "c@example.org", 3, name="-minus\nnewline", city="\ttab", country="GB")
    for include_email in (True, False):
        copied = io.BytesIO()
        csv_file.write_csv(petition, copied, include_email)
        by_python = io.BytesIO()
        by_python.write(csv_file.BOM)
        csv_file._python_csv(petition, by_python, include_email, None)

        # COPY quotes an empty string ("") where csv leaves the cell empty: same table.
        assert parse(copied.getvalue()) == parse(by_python.getvalue())


def test_the_csv_lists_exactly_the_signatures_that_count(petition, tmp_path):
    """Held (a bot, a blocked or throwaway address), withdrawn, invalidated and pending
    signatures are not in it, on either database: the same rows as the document and the count."""
    from petitions.documents import pdf
    from petitions.services import counting

    confirmed(petition, "one@example.org", 1, name="Counted One")
    confirmed(petition, "two@example.org", 2, name="Counted Two")
    confirmed(petition, "bot@example.org", 3, name="Held Bot", held_reason="honeypot")
    confirmed(
        petition, "tmp@example.org", 4, name="Held Throwaway", held_reason="a disposable address"
    )
    confirmed(petition, "gone@example.org", 5, name="Withdrawn", status=Signature.Status.WITHDRAWN)
    confirmed(petition, "bad@example.org", 6, name="Invalid", status=Signature.Status.INVALIDATED)
    make_signature(petition, "wait@example.org", name="Pending")
    counting.rebuild(petition)
    petition.refresh_from_db()

    data, rows = export_bytes(petition, include_email=True)
    listed, _ = pdf.presentation_pdf(petition, tmp_path / "doc.pdf")

    names = [row[1] for row in parse(data)[1:]]
    assert names == ["Counted One", "Counted Two"]
    assert rows == listed == petition.signature_count == 2


@postgresql_only
def test_copy_and_the_python_writer_neutralise_the_same_cells(petition):
    signs = ["=", "+", "-", "@", "\t", "\r", *FOLDED_SIGNS]
    starts = signs + [name[0] for name, _ in ORDINARY] + ["−", "‐"]  # minus sign, hyphen: text
    for n, start in enumerate(starts):
        confirmed(petition, f"{start}s{n}@example.org", n, name=f"{start}name", city=f"{start}1")
    copied = io.BytesIO()
    csv_file.write_csv(petition, copied, include_email=True)
    by_python = io.BytesIO()
    by_python.write(csv_file.BOM)
    csv_file._python_csv(petition, by_python, True, None)

    table = parse(copied.getvalue())
    assert table == parse(by_python.getvalue())
    assert [row[1][:2] for row in table[1:] if row[1].startswith("'")] == [f"'{s}" for s in signs]
