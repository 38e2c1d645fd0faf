"""Staff CSV exports of a petition's counted signatures.

On PostgreSQL the rows come from `COPY (SELECT …) TO STDOUT`, written straight into the output
file: the database formats the CSV, so a million rows take about as long as COPY itself and the
memory used does not grow with the rows. Elsewhere (SQLite) Python's csv module writes the same
columns from a chunked iterator.

Every cell a spreadsheet would run as a formula is prefixed with an apostrophe, so it is shown
as text: one starting with = + - @, tab or carriage return, or with a character whose NFKC form
starts with one of them (＝HYPERLINK(…), ﹦1+1, ＋, －, ＠…), since spreadsheets fold full-width
and small forms into the ASCII signs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC
from typing import BinaryIO

from django.db import connection, transaction
from django_countries import countries

from petitions.models import Petition

# What a cell may start with that makes a spreadsheet run it: = + - @ tab and carriage return, and
# every character whose NFKC form starts with one of them. Worked out from Unicode's tables
# (tests/petitions/test_exports.py checks every code point) and written out here: the SQL below
# lists them, and the check runs for every cell.
FORMULA_SIGNS = "=+-@\t\r"
FORMULA_STARTS = frozenset(
    FORMULA_SIGNS
    + "\u207a\u207c\u208a\u208c"  # superscript and subscript + and =: ⁺ ⁼ ₊ ₌
    + "\u2a75\u2a76"  # ⩵ ⩶: two and three equals signs
    + "\ufb29"  # ﬩ Hebrew alternative plus sign
    + "\ufe62\ufe63\ufe66\ufe6b"  # small form variants: ﹢ ﹣ ﹦ ﹫
    + "\uff0b\uff0d\uff1d\uff20"  # full-width forms: ＋ － ＝ ＠
)
# Excel reads a UTF-8 file as UTF-8 only when it starts with a byte order mark.
BOM = "\ufeff".encode()
PROGRESS_EVERY = 5000


def neutralise(value: str) -> str:
    return "'" + value if value[:1] in FORMULA_STARTS else value


def columns(include_email: bool) -> list[str]:
    names = ["number", "name", "email", "city", "country", "confirmed_at_utc", "source"]
    return names if include_email else [n for n in names if n != "email"]


def write_csv(
    petition: Petition,
    out: BinaryIO,
    include_email: bool,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write the CSV (UTF-8 with BOM) to a binary file; return the number of signatures."""
    out.write(BOM)
    if connection.vendor == "postgresql":
        out.write((",".join(columns(include_email)) + "\n").encode())
        return _copy_csv(petition, out, include_email)
    return _python_csv(petition, out, include_email, on_progress)


def _python_csv(petition, out, include_email, on_progress) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    # With "\r\n" as the line end the csv module quotes a bare carriage return inside a cell,
    # as COPY does; with "\n" it would not, and a reader would split the row.
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(columns(include_email))
    fields = ["name", "email", "city", "country", "verified_at", "source"]
    rows = (
        petition.signatures.counted()
        .order_by("verified_at", "pk")
        .values_list(*fields)
        .iterator(chunk_size=5000)
    )
    number = 0
    for number, (name, email, city, country, verified_at, source) in enumerate(rows, start=1):
        cells = [str(number), neutralise(name)]
        if include_email:
            cells.append(neutralise(email))
        cells += [
            neutralise(city),
            countries.name(country) or country,
            verified_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if verified_at else "",
            source,
        ]
        writer.writerow(cells)
        if on_progress and number % PROGRESS_EVERY == 0:
            on_progress(number)
    text.detach()  # leave `out` open for the caller
    return number


FORMULA_CODES = ", ".join(str(code) for code in sorted(map(ord, FORMULA_STARTS)))


def _neutralised_sql(column: str) -> str:
    # ascii() reads the first character's code: cheaper than comparing left(column, 1).
    return f"CASE WHEN ascii({column}) IN ({FORMULA_CODES}) THEN '''' || {column} ELSE {column} END"


def _copy_csv(petition: Petition, out: BinaryIO, include_email: bool) -> int:
    """COPY the export from a query built around counted() itself, so that the rows are the
    signatures that count (as in the SQLite path, the PDF and the public count), whatever that
    definition becomes."""
    counted = (
        petition.signatures.counted()
        .order_by()
        .values("id", "name", "email", "city", "country", "verified_at", "source")
    )
    inner, inner_params = counted.query.sql_with_params()
    email = f"{_neutralised_sql('s.email')}, " if include_email else ""
    names = list(countries)
    country_values = ", ".join(["(%s, %s)"] * len(names))
    query = f"""
        SELECT row_number() OVER (ORDER BY s.verified_at, s.id),
               {_neutralised_sql("s.name")}, {email}{_neutralised_sql("s.city")},
               coalesce(c.name, s.country),
               date_trunc('second', s.verified_at AT TIME ZONE 'UTC'),
               s.source
        FROM ({inner}) s
        LEFT JOIN (VALUES {country_values}) AS c(code, name) ON c.code = s.country
        ORDER BY s.verified_at, s.id
    """  # noqa: S608 - identifiers are ours; every value goes through mogrify below
    params = [*inner_params, *(value for code, name in names for value in (code, str(name)))]
    with transaction.atomic(), connection.cursor() as cursor:
        # Sort a million rows in memory rather than on disk, and skip JIT compilation, which
        # costs more than it saves here; both only for this transaction.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL DateStyle = 'ISO'")  # timestamps as 2025-03-01 12:01:00
        raw = cursor.cursor  # psycopg2's own cursor, for COPY
        sql = raw.mogrify(query, params).decode()
        raw.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", out)
        return raw.rowcount
