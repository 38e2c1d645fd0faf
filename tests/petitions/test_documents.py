"""The presentation document and the blank paper sheet, read back with poppler's tools.

A name must come out of the PDF as the text it is (so that it can be searched, copied and read
aloud), every font must travel inside the file, and no email address may ever be in it.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import transaction

from accounts.models import Organisation
from campaigns.models import Campaign
from petitions.documents import pdf
from petitions.documents.pdf import paper_sheet_pdf, presentation_pdf
from petitions.models import PaperBatch, Petition, Presentation, Signature
from petitions.services.paper import update_paper_count
from tests.conftest import make_petition, make_signature

BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

# name, country, city: one signer in each script people sign with.
SIGNERS_IN_EVERY_SCRIPT = [
    ("Zoë Müller", "DE", "Köln"),
    ("François Pérez", "FR", "Besançon"),
    ("Γιώργος Παπαδόπουλος", "GR", "Θεσσαλονίκη"),
    ("Иван Петров", "RU", "Санкт-Петербург"),
    ("김민준", "KR", "서울"),
    ("王小明", "CN", "北京"),
    ("山田 ゆき", "JP", "東京"),
    ("やまだ はなこ", "JP", "おおさか"),
    ("Nguyễn Thị Lan", "VN", "Hà Nội"),
    ("محمد الأحمد", "EG", "القاهرة"),
    ("דוד לוי", "IL", "ירושלים"),
]
RIGHT_TO_LEFT = {"EG", "IL"}

BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# fpdf2 draws in millimetres; poppler's -bbox reports points.
MM = 72 / 25.4


# Helpers -----------------------------------------------------------------------------------


def confirmed(
    petition: Petition,
    email: str,
    name: str,
    *,
    at: datetime,
    country: str = "GB",
    city: str = "London",
    status: str = Signature.Status.CONFIRMED,
) -> Signature:
    return make_signature(
        petition, email, name=name, country=country, city=city, status=status, verified_at=at
    )


def build(
    petition: Petition, tmp_path: Path, name: str = "document.pdf", **kwargs
) -> tuple[Path, int, str]:
    target = tmp_path / name
    rows, digest = presentation_pdf(petition, target, **kwargs)
    return target, rows, digest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=True, timeout=60)


def pdf_text(path: Path, *options: str) -> str:
    return run("pdftotext", "-enc", "UTF-8", *options, str(path), "-").stdout


def page_text(path: Path, page: int, *options: str) -> str:
    return pdf_text(path, "-f", str(page), "-l", str(page), *options)


def page_count(path: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", run("pdfinfo", str(path)).stdout, re.MULTILINE)
    assert match, "pdfinfo gave no page count"
    return int(match.group(1))


def signer_list(path: Path, mode: str = "-layout") -> str:
    """The text from the "Signatures" heading on: the list of signers."""
    text = pdf_text(path, mode)
    parts = re.split(r"^\s*Signatures\s*$", text, maxsplit=1, flags=re.MULTILINE)
    assert len(parts) == 2, f"no Signatures heading in:\n{text}"
    return parts[1]


def numbered_entries(path: Path) -> list[tuple[int, str]]:
    """(number, name) for each entry of the list, in the order they are drawn (pdftotext -raw:
    the layout mode would put three columns on one line). For left-to-right names only."""
    return [
        (int(number.replace(",", "")), name)
        for number, name in re.findall(
            r"^(\d[\d,]*)\. (\S.*?)\s*$", signer_list(path, "-raw"), re.MULTILINE
        )
    ]


def flat(text: str) -> str:
    """Whitespace collapsed, so that a wrapped line still matches."""
    return " ".join(text.split())


def bare(text: str) -> str:
    """Right-to-left text without whitespace and bidi marks, which pdftotext may add between
    shaped glyph clusters."""
    return BIDI_CONTROLS.sub("", "".join(text.split()))


# One document with a signer in every script, built twice -----------------------------------

SECRET_EMAILS = ["secret.person@example.org", "Another.One@Example.NET"]
PENDING_EMAIL = "pending.person@example.org"


@dataclass(frozen=True)
class Built:
    first: Path
    second: Path
    rows: tuple[int, int]
    digests: tuple[str, str]


# The marker (not only the db fixture) makes pytest-django create the test database before the
# module-scoped fixture below uses it, whichever tests are selected.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def every_script(django_db_setup, django_db_blocker, tmp_path_factory) -> Built:
    """Built once for the module (fonts make each build take a second or two), in a transaction
    rolled back afterwards; built a second time three days later, to the same data."""
    folder = tmp_path_factory.mktemp("every-script")
    with django_db_blocker.unblock(), transaction.atomic():
        organisation = Organisation.objects.create(name="Release International", slug="release")
        campaign = Campaign.objects.create(
            organisation=organisation,
            title_en="Run for your Life",
            slug="run-for-your-life",
            status=Campaign.Status.LIVE,
        )
        petition = make_petition(campaign, "every-script", title_en="Grant refugees safe passage")
        emails = [*SECRET_EMAILS, *(f"signer{i}@example.org" for i in range(2, 99))]
        for index, (name, country, city) in enumerate(SIGNERS_IN_EVERY_SCRIPT):
            confirmed(
                petition,
                emails[index],
                name,
                at=BASE + timedelta(minutes=index),
                country=country,
                city=city,
            )
        make_signature(petition, PENDING_EMAIL, name="Pending Person")
        first, rows_first, digest_first = build(petition, folder, "first.pdf")
        with time_machine.travel(datetime.now(UTC) + timedelta(days=3, hours=5), tick=False):
            second, rows_second, digest_second = build(petition, folder, "second.pdf")
        transaction.set_rollback(True)
    return Built(first, second, (rows_first, rows_second), (digest_first, digest_second))


def test_names_in_every_script_are_real_text(every_script):
    assert every_script.rows[0] == len(SIGNERS_IN_EVERY_SCRIPT)
    text = pdf_text(every_script.first)
    for name, country, city in SIGNERS_IN_EVERY_SCRIPT:
        if country in RIGHT_TO_LEFT:
            assert bare(name) in bare(text), f"{name!r} is not in the text"
            assert bare(city) in bare(text), f"{city!r} is not in the text"
        else:
            assert name in text, f"{name!r} is not in the text"
            assert city in text, f"{city!r} is not in the text"
    assert "Pending Person" not in text


def test_it_embeds_every_font(every_script):
    lines = run("pdffonts", str(every_script.first)).stdout.splitlines()

    assert lines[0].split()[:2] == ["name", "type"] and "emb" in lines[0].split()
    rows = [line for line in lines[2:] if line.strip()]
    assert rows, "pdffonts lists no font"
    # The last five columns are emb, sub, uni, object and generation: names may hold spaces.
    not_embedded = [row for row in rows if row.split()[-5] != "yes"]
    assert not_embedded == [], "fonts not embedded:\n" + "\n".join(not_embedded)


def _streams(data: bytes) -> list[bytes]:
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return out


def test_no_email_address_is_in_the_document(every_script):
    text = pdf_text(every_script.first)
    assert "Zoë Müller" in text and "François Pérez" in text  # their names are there...
    assert "@" not in text  # ...and no address at all
    data = every_script.first.read_bytes()
    streams = _streams(data)
    for email in [*SECRET_EMAILS, PENDING_EMAIL]:
        for variant in {email, email.lower()}:
            for encoded in (variant.encode(), variant.encode("utf-16-be")):
                assert encoded not in data
                assert not any(encoded in stream for stream in streams)


def test_the_same_data_gives_the_same_document(every_script):
    first, second = every_script.first.read_bytes(), every_script.second.read_bytes()

    assert every_script.rows[0] == every_script.rows[1] == len(SIGNERS_IN_EVERY_SCRIPT)
    assert first == second
    digest = hashlib.sha256(first).hexdigest()
    assert every_script.digests == (digest, digest)


# What is listed, and in what order ---------------------------------------------------------


def test_it_lists_only_confirmed_signatures_in_the_order_they_were_confirmed(petition, tmp_path):
    # Created in one order, confirmed in another.
    confirmed(petition, "carla@example.org", "Carla Third", at=BASE + timedelta(hours=3))
    confirmed(petition, "alice@example.org", "Alice First", at=BASE + timedelta(hours=1))
    confirmed(petition, "emil@example.org", "Emil Fifth", at=BASE + timedelta(hours=4))
    confirmed(petition, "dora@example.org", "Dora Fourth", at=BASE + timedelta(hours=4))
    confirmed(petition, "bruno@example.org", "Bruno Second", at=BASE + timedelta(hours=2))
    # Not counted, so not listed; each from a country no counted signer is from.
    make_signature(petition, "pete@example.org", name="Pending Pete", country="NZ")
    confirmed(
        petition,
        "ivy@example.org",
        "Invalidated Ivy",
        at=BASE,
        country="IS",
        status=Signature.Status.INVALIDATED,
    )
    confirmed(
        petition,
        "will@example.org",
        "Withdrawn Will",
        at=BASE,
        country="CL",
        status=Signature.Status.WITHDRAWN,
    )

    path, rows, _ = build(petition, tmp_path)

    assert rows == 5
    # Same confirmation time: the one that signed first (created first) comes first.
    assert numbered_entries(path) == [
        (1, "Alice First"),
        (2, "Bruno Second"),
        (3, "Carla Third"),
        (4, "Emil Fifth"),
        (5, "Dora Fourth"),
    ]
    text = pdf_text(path)
    for left_out in ["Pending Pete", "Invalidated Ivy", "Withdrawn Will"]:
        assert left_out not in text
    for country in ["New Zealand", "Iceland", "Chile"]:
        assert country not in text  # not in the list, nor in the table by country


# The cover ---------------------------------------------------------------------------------


def _with_paper_and_online(petition: Petition) -> None:
    PaperBatch.objects.create(
        petition=petition, count=1200, received_on=date(2025, 3, 2), location="Vigil, London"
    )
    PaperBatch.objects.create(
        petition=petition, count=50, received_on=date(2025, 3, 9), location="Stall, Leeds"
    )
    update_paper_count(petition)
    confirmed(petition, "alice@example.org", "Alice", at=BASE, country="KR")
    confirmed(petition, "bruno@example.org", "Bruno", at=BASE + timedelta(hours=1), country="KR")
    confirmed(petition, "carla@example.org", "Carla", at=BASE + timedelta(hours=2), country="DE")


def test_the_cover_shows_the_petition_and_its_counts(petition, tmp_path):
    _with_paper_and_online(petition)

    path, rows, _ = build(petition, tmp_path)

    assert rows == 3
    cover = page_text(path, 1)
    words = flat(cover)
    for expected in [
        "Release International",
        "Run for your Life",
        "Grant refugees safe passage",
        "To: The Government of the People's Republic of China",
        "Grant North Korean refugees safe passage.",
        "1. Grant them refugee status.",
        "2. Give them safe passage.",
        "3. Stop forcible repatriation.",
    ]:
        assert expected in words, f"{expected!r} is not on the cover"
    layout = page_text(path, 1, "-layout")
    assert re.search(r"Signatures online \(confirmed by email\)\s+3\s*$", layout, re.MULTILINE)
    assert re.search(r"Signatures on paper\s+1,250\s*$", layout, re.MULTILINE)
    assert re.search(r"Total signatures\s+1,253\s*$", layout, re.MULTILINE)
    # A preview: no presentation yet.
    for label in ["Presented by", "Received by", "Place"]:
        assert label not in cover
    # The table by country says the paper signatures are not in it.
    assert "The 1,250 signatures collected on paper" in flat(pdf_text(path))


def test_the_cover_of_a_presentation_says_when_where_and_to_whom(petition, tmp_path):
    _with_paper_and_online(petition)
    presentation = Presentation.objects.create(
        petition=petition,
        presented_on=date(2025, 4, 15),
        place="the Chinese Embassy, London",
        recipient="Ambassador Zheng Zeguang",
        presented_by="Andy Dipper",
        online_count=3,
        paper_count=1250,
        total_count=1253,
    )

    path, _, _ = build(petition, tmp_path, presentation=presentation)

    layout = page_text(path, 1, "-layout")
    for label, value in [
        ("Presented", "15 April 2025"),
        ("Place", "the Chinese Embassy, London"),
        ("Received by", "Ambassador Zheng Zeguang"),
        ("Presented by", "Andy Dipper"),
        ("Signatures online \\(confirmed by email\\)", "3"),
        ("Signatures on paper", "1,250"),
        ("Total signatures", "1,253"),
        ("Seal of this document", presentation.seal),
    ]:
        assert re.search(rf"^\s*{label}\s+{re.escape(value)}\s*$", layout, re.MULTILINE), (
            f"{label} {value!r} is not on the cover:\n{layout}"
        )
    assert "Release International" in layout and "Run for your Life" in layout


# The table by country ----------------------------------------------------------------------


def test_it_counts_signatures_by_country(petition, tmp_path):
    for index in range(3):
        confirmed(petition, f"kr{index}@example.org", f"KR {index}", at=BASE, country="KR")
    for index in range(2):
        confirmed(petition, f"de{index}@example.org", f"DE {index}", at=BASE, country="DE")
    confirmed(petition, "fr@example.org", "FR 0", at=BASE, country="FR")

    path, _, _ = build(petition, tmp_path)

    text = pdf_text(path, "-layout")
    assert re.search(r"^\s*Signatures by country\s*$", text, re.MULTILINE)
    table = text.split("Signatures by country", 1)[1].split("Page ", 1)[0]
    # Most signatures first, each country with its count.
    assert re.search(r"South Korea\s+3\s+Germany\s+2\s+France\s+1", table), table


# Page numbers ------------------------------------------------------------------------------


def test_every_page_has_the_running_header_and_says_page_x_of_y(petition, tmp_path):
    # Enough signers to fill the three columns of more than one page.
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            name=f"Signer Number {index}",
            email=f"signer{index}@example.org",
            email_canonical=f"signer{index}@example.org",
            country="GB",
            city="Manchester",
            status=Signature.Status.CONFIRMED,
            verified_at=BASE + timedelta(minutes=index),
        )
        for index in range(1, 241)
    )

    path, rows, _ = build(petition, tmp_path)

    assert rows == 240
    pages = page_count(path)
    assert pages >= 4  # cover, countries, and the list over at least two pages
    header = f"{petition.title} — {petition.campaign.organisation.name}"
    for page in range(1, pages + 1):
        assert f"Page {page} of {pages}" in page_text(path, page), f"page {page}"
        assert header in page_text(path, page), f"no header on page {page}"
    assert len(re.findall(r"Page \d+ of \d+", pdf_text(path))) == pages
    # Numbered 1..N across the pages, each with its own signer.
    assert numbered_entries(path) == [(n, f"Signer Number {n}") for n in range(1, 241)]


# Right-to-left text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "city", "country", "country_name"),
    [
        ("דוד לוי", "ירושלים", "IL", "Israel"),
        ("فاطمة الزهراء", "الإسكندرية", "EG", "Egypt"),
    ],
)
def test_text_after_a_right_to_left_name_is_not_lost(
    petition, tmp_path, name, city, country, country_name
):
    confirmed(petition, "rtl@example.org", name, at=BASE, country=country, city=city)
    confirmed(
        petition,
        "anna@example.org",
        "Anna Schmidt",
        at=BASE + timedelta(hours=1),
        country="DE",
        city="Hamburg",
    )
    confirmed(
        petition,
        "jan@example.org",
        "Jan Kowalski",
        at=BASE + timedelta(hours=2),
        country="PL",
        city="",
    )

    path, rows, _ = build(petition, tmp_path)

    assert rows == 3
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Syntax Error" not in result.stderr
    assert "Error" not in result.stderr, result.stderr
    listed = result.stdout.split("Page 2 of", 1)[1]  # the list, not the table by country
    assert bare(name) in bare(listed) and bare(city) in bare(listed)
    assert f"{country_name} · 1 Mar 2025" in listed  # the right-to-left signer's country
    assert "Anna Schmidt" in listed
    assert "Hamburg, Germany · 1 Mar 2025" in listed
    assert "Jan Kowalski" in listed and "Poland · 1 Mar 2025" in listed


# Awkward data ------------------------------------------------------------------------------

LONG_NAME = (
    "Adolph Blaine Charles David Earl Frederick Gerald Hubert Irvin John Kenneth Lloyd Martin "
    "Nero Oliver Paul Quincy Randolph Sherman Thomas Uncas Victor William Xerxes Yancy Zeus "
    "Wolfeschlegelsteinhausenbergerdorff Senior"
)[:200]


def test_a_200_character_name_and_an_empty_city_do_not_break_it(petition, tmp_path):
    assert len(LONG_NAME) == 200
    confirmed(petition, "long@example.org", LONG_NAME, at=BASE, country="DE", city="Berlin")
    confirmed(
        petition,
        "nocity@example.org",
        "Ola Nordmann",
        at=BASE + timedelta(hours=1),
        country="NO",
        city="",
    )

    path, rows, _ = build(petition, tmp_path)

    assert rows == 2
    listed = signer_list(path)
    assert "Adolph Blaine Charles" in listed
    assert "Ola Nordmann" in listed
    assert re.search(r"^\s*Norway · 1 Mar 2025\s*$", listed, re.MULTILINE), listed
    assert ", Norway" not in listed


LONG_TOWN = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"  # in Anglesey, Wales


@pytest.mark.parametrize(
    ("name", "city", "long_text"),
    [(LONG_NAME, "Berlin", LONG_NAME), ("Gareth Jones", LONG_TOWN, LONG_TOWN)],
    ids=["long-name", "long-town"],
)
def test_a_long_name_or_town_stays_within_its_column(petition, tmp_path, name, city, long_text):
    """A long name or town is shrunk to fit; if it still does not fit, it must not run over the
    next column (where it would print over other signers) or off the page: every name has to
    be readable whole."""
    confirmed(petition, "long@example.org", name, at=BASE, country="GB", city=city)

    path, _, _ = build(petition, tmp_path)

    bbox = page_text(path, page_count(path), "-bbox")
    words = [
        (float(y0), float(x1), word)
        for y0, x1, word in re.findall(
            r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>([^<]*)</word>', bbox
        )
    ]
    first_word = long_text.split()[0]
    line = next(y0 for y0, _, word in words if word.startswith(first_word[:10]))
    # The entry's lines: from the first line of the long text down to the next entry's number.
    entry = [(y0, x1, word) for y0, x1, word in words if line - 0.5 < y0 < line + 40 * MM]
    numbers = [y0 for y0, _, word in entry if re.fullmatch(r"\d+\.", word) and y0 > line + 0.5]
    entry = [item for item in entry if not numbers or item[0] < min(numbers) - 0.5]
    column_width = (210 - 2 * pdf.PAGE_MARGIN - 2 * pdf.COLUMN_GAP) / 3
    column_right = (pdf.PAGE_MARGIN + column_width) * MM
    beyond = [(word, round(x1 / MM, 1)) for _, x1, word in entry if x1 > column_right + 1]
    assert beyond == [], (
        f"the text runs past its column, which ends {column_right / MM:.1f} mm from the page's "
        f"left edge (the page is 210 mm wide); words and where they end (mm): {beyond}"
    )
    # Shrunk, then wrapped onto more lines if need be: every letter is there, in order.
    shown = "".join(word for _, _, word in entry)
    assert long_text.replace(" ", "") in shown, f"{long_text!r} is not whole: {shown!r}"


def test_a_petition_with_no_confirmed_signatures_builds(petition, tmp_path):
    make_signature(petition, "pending@example.org", name="Pending Person")

    path, rows, digest = build(petition, tmp_path)

    assert rows == 0
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    text = pdf_text(path)
    assert "No online signatures." in text
    assert "Pending Person" not in text
    assert re.search(r"Total signatures\s+0\s*$", page_text(path, 1, "-layout"), re.MULTILINE)


# The paper sheet ---------------------------------------------------------------------------


def test_the_paper_sheet_is_one_page_with_the_title_and_the_columns(petition, tmp_path):
    path = tmp_path / "sheet.pdf"
    path.write_bytes(paper_sheet_pdf(petition))

    assert path.read_bytes().startswith(b"%PDF")
    assert page_count(path) == 1
    text = pdf_text(path, "-layout")
    assert "Grant refugees safe passage" in text
    assert "Release International" in text
    assert re.search(r"Name\s+Town or city\s+Country\s+Signature", text), text
    assert "@" not in text


def test_the_paper_sheet_of_a_petition_with_many_demands_stays_on_one_page(campaign, tmp_path):
    petition = make_petition(campaign, "many-demands", title_en="A petition with many demands")
    for position in range(1, 7):
        petition.demands.create(
            position=position,
            text_en=f"Demand number {position}: " + "grant safe passage to those who flee. " * 3,
        )
    path = tmp_path / "sheet.pdf"
    path.write_bytes(paper_sheet_pdf(petition))

    assert page_count(path) == 1
    assert re.search(r"Name\s+Town or city\s+Country\s+Signature", pdf_text(path, "-layout"))
