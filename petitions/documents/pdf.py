"""PDF documents: the presentation document handed to the recipient, and the blank paper sheet.

Names come in every script, so text is drawn with the Noto fonts of documents/fonts.py. The list
of signers is the hot path (100,000 names should take seconds): each name is split into runs by
which font has its characters and drawn with FPDF.text(), which is fast; only names that need
shaping (Arabic, Hebrew: joining and right-to-left order) go through the slower shaped cell().

The presentation document is written in the petition's original language, whatever language
the member of staff who asks for it reads the admin in (the same data gives the same bytes).
When the petition's recipient reads another language, its headings and labels are given in that
language beside the original's (Words), and so are the petition's own words (its campaign,
title, target, statement and demands) where they are translated into it. The paper sheet is in
the language of the page it is printed from.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django_countries import countries
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from campaigns.translated import Translated
from config import memos
from petitions.documents.fonts import SOURCES, shaping_families, static_fonts
from petitions.models import Petition, Presentation
from petitions.services import counting

PAGE_MARGIN = 14
GREY = (90, 90, 90)
ACCENT = (11, 93, 75)

# The list of signers: three columns of entries, each a name line and a details line.
COLUMNS = 3
COLUMN_GAP = 5
NAME_SIZE = 8.5
MIN_NAME_SIZE = 6
DETAIL_SIZE = 6.5
NAME_LINE = 3.9
DETAIL_LINE = 3.3
ENTRY_GAP = 1.1
PROGRESS_EVERY = 5000

TO = gettext_noop("To:")  # before the recipient, on the cover and the paper sheet


@dataclass(frozen=True)
class SignerRow:
    name: str
    city: str
    country: str
    signed_at: datetime


class Words:
    """The document's own words in `language`, and in the language `beside` after them
    ("致： / To:"), when that is another. Messages are marked with gettext_noop where they are
    written, so that makemessages finds them."""

    def __init__(
        self, language: str = settings.LANGUAGE_CODE, beside: str | None = settings.LANGUAGE_CODE
    ) -> None:
        self.language = language
        self.beside = beside if beside != language else None

    def versions(self, message: str, **values: object) -> list[str]:
        """The message in the language (and in the one beside it)."""
        return [
            _translated(message, code, values)
            for code in (self.language, self.beside)
            if code is not None
        ]

    def __call__(self, message: str, **values: object) -> str:
        return " / ".join(self.versions(message, **values))


def _translated(message: str, language: str, values: dict) -> str:
    if language == settings.LANGUAGE_CODE:  # the messages are written in English
        return message % values if values else message
    with translation.override(language):
        return gettext(message) % values if values else gettext(message)


def country_name(code: str) -> str:
    return memos.COUNTRY_NAMES.get(code, lambda: countries.name(code) or code)


class _SubsetCodes(dict):
    """{code point: glyph code in the font's subset}, for str.translate(); picking a character
    the first time adds its glyph to the subset that is embedded."""

    def __init__(self, font) -> None:
        super().__init__()
        self.font = font

    def __missing__(self, code_point: int) -> str | None:
        code = self.font.subset.pick(code_point)
        value = self[code_point] = None if code is None else chr(code)
        return value


class PetitionPDF(FPDF):
    """An A4 document with our fonts, a running header and "page X of Y" footers."""

    def __init__(self, running_title: str, created: datetime, words: Words | None = None) -> None:
        super().__init__(format="A4", unit="mm")
        self.running_title = running_title
        self.words = words or Words()
        self.set_margins(PAGE_MARGIN, PAGE_MARGIN + 6, PAGE_MARGIN)
        self.set_auto_page_break(True, margin=PAGE_MARGIN + 4)
        # The same data gives the same document: no clock in the file.
        self.set_creation_date(created)
        self.set_producer("Safe Passage")
        self.alias_nb_pages("{total_pages}")  # room for five digits
        self._char_family: dict[str, str] = {}
        self._runs_cache: dict[str, list[tuple[str, str]]] = {}
        self._batch: list[str] | None = None
        self._codes: dict[int, _SubsetCodes] = {}
        self._tail_widths: dict[str, float] = {}
        self._glyphs: dict[int, dict[tuple, tuple[int | None, int]]] = {}
        self._coverage: list[tuple[str, dict]] = []
        for (family, style), path in static_fonts().items():
            self.add_font(family, style, str(path))
        for source in SOURCES:
            self._coverage.append((source.family, self.fonts[source.family.lower()].cmap))
        self._cmaps = dict(self._coverage)
        self._widths = {family: self.fonts[family.lower()].cw for family, _ in self._coverage}
        self._shaping = shaping_families()
        self.set_fallback_fonts([s.family for s in SOURCES[1:]], exact_match=False)
        self.set_font("NotoSans", size=10)

    def header(self) -> None:
        self.set_text_shaping(True)
        self.set_font("NotoSans", size=7.5)
        self.set_text_color(*GREY)
        self.set_xy(PAGE_MARGIN, 8)
        self.cell(self.epw, 5, self.running_title, align="L")
        self.set_text_color(0)
        self.set_text_shaping(False)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_text_shaping(False)
        self.set_font("NotoSans", size=7.5)
        self.set_text_color(*GREY)
        self.set_xy(PAGE_MARGIN, -12)
        if self.words.language == settings.LANGUAGE_CODE and self.words.beside is None:
            page = f"Page {self.page_no()} of {{total_pages}}"
        else:  # read alike in every language; the total is filled in last, so it ends the line
            page = f"{self.page_no()} / {{total_pages}}"
        self.cell(self.epw, 5, page, align="C")
        self.set_text_color(0)

    # Text in any script ------------------------------------------------------------------

    def family_for(self, char: str, cjk: str) -> str:
        key = char + cjk
        family = self._char_family.get(key)
        if family is None:
            code = ord(char)
            # CJK punctuation, kana and Han: in the name's language (see runs())
            if 0x3000 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
                order = [(cjk, self._cmaps[cjk]), *self._coverage]
            else:
                order = self._coverage
            family = next((f for f, cmap in order if code in cmap), "NotoSans")
            self._char_family[key] = family
        return family

    def runs(self, text: str) -> list[tuple[str, str]]:
        """Split text into (font family, piece) runs; spaces stay with the run they follow.
        Han characters take Korean glyphs in a Korean name, Japanese in a Japanese one."""
        if text.isascii():
            return [("NotoSans", text)] if text else []
        cached = self._runs_cache.get(text)
        if cached is None:
            if len(self._runs_cache) > 4096:  # the same texts come back within an entry
                self._runs_cache.clear()
            cached = self._runs_cache[text] = self._split_runs(text)
        return cached

    def _split_runs(self, text: str) -> list[tuple[str, str]]:
        cjk = "NotoSansSC"
        if any("\uac00" <= ch <= "\ud7a3" for ch in text):
            cjk = "NotoSansKR"
        elif any("\u3040" <= ch <= "\u30ff" for ch in text):
            cjk = "NotoSansJP"
        runs: list[tuple[str, str]] = []
        current, piece = "", []
        for char in text:
            family = current if (char == " " and current) else self.family_for(char, cjk)
            if family != current and piece:
                runs.append((current, "".join(piece)))
                piece = []
            current = family
            piece.append(char)
        if piece:
            runs.append((current, "".join(piece)))
        return runs

    def runs_width(self, runs: list[tuple[str, str]], size: float) -> float:
        """Width in mm, summed from the fonts' advance widths (FPDF.get_string_width() parses
        each string for markup and fallbacks: too slow for a hundred thousand names)."""
        units = 0
        for family, piece in runs:
            units += sum(map(self._widths[family].__getitem__, map(ord, piece)))
        return units * size * 0.001 / self.k

    def text_width(self, text: str, size: float) -> float:
        """Width in mm. For scripts that are shaped this is the sum of the letters' own widths,
        a close and slightly generous guess (joined forms are narrower), good for fitting."""
        return self.runs_width(self.runs(text), size)

    def tail_width(self, text: str) -> float:
        """Width of ", country · date" under a name: few distinct values, so remembered."""
        width = self._tail_widths.get(text)
        if width is None:
            width = self._tail_widths[text] = self.text_width(text, DETAIL_SIZE)
        return width

    def fit(self, text: str, size: float, width: float) -> tuple[float, list[str]]:
        """The size and lines that put text within width: shrunk, down to MIN_NAME_SIZE, then
        wrapped between words, or inside a word too long for a line. Nothing is cut off."""
        natural = self.text_width(text, size)
        if natural <= width:
            return size, [text]
        if size * width / natural >= MIN_NAME_SIZE:
            return size * width / natural, [text]
        size, lines, line = MIN_NAME_SIZE, [], ""
        for word in text.split(" "):
            candidate = f"{line} {word}" if line else word
            if self.text_width(candidate, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while self.text_width(word, size) > width:
                cut = self._longest_prefix(word, size, width)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        if line:
            lines.append(line)
        return size, lines

    def _longest_prefix(self, word: str, size: float, width: float) -> int:
        low, high = 1, len(word)
        while low < high:
            middle = (low + high + 1) // 2
            if self.text_width(word[:middle], size) <= width:
                low = middle
            else:
                high = middle - 1
        return low

    def draw_line(
        self,
        x: float,
        baseline: float,
        text: str,
        size: float,
        grey: bool = False,
        measure: bool = True,
    ) -> float:
        """Draw text at a baseline in the font that has each character; return where it ends.
        Runs in scripts that need it (Arabic, Hebrew) are shaped: joined, right to left.

        Between begin_text() and end_text() the operators gather in one text object; that and
        writing them directly (not through FPDF.text()/cell(), which parse every string for
        markup, fallbacks and bidirectional runs) is what makes 100,000 names take seconds."""
        standalone = self._batch is None
        if standalone:
            self.begin_text()
        ops = self._batch
        ops.append("0.353 g" if grey else "0 g")
        y = (self.h - baseline) * self.k
        runs = self.runs(text)
        for index, (family, piece) in enumerate(runs, start=1):
            font = self.fonts[family.lower()]
            if self._batch_font != (font.i, size):
                self._batch_font = (font.i, size)
                ops.append(self._set_font_for_page(font, size, wrap_in_text_object=False))
            if family in self._shaping:
                x = self._shaped_ops(ops, font, size, x, baseline, piece)
            else:
                ops.append(f"1 0 0 1 {x * self.k:.2f} {y:.2f} Tm {self._encode(font, piece)}")
                if measure or index < len(runs):  # where the line ends is not always wanted
                    x += self.runs_width([(family, piece)], size)
        if standalone:
            self.end_text()
        return x

    def _encode(self, font, text: str) -> str:
        """A string operand of glyph codes in the font's subset, as font.encode_text() makes,
        through str.translate() and a table that picks each new character once."""
        table = self._codes.get(font.i)
        if table is None:
            table = self._codes[font.i] = _SubsetCodes(font)
        return f"({font.escape_text(text.translate(table))}) Tj"

    def begin_text(self) -> None:
        # q/Q around the text object restore the colour and font fpdf2 believes are set.
        self._batch = ["q", "BT"]
        self._batch_font = None
        self._font_was_set = self.current_font_is_set_on_page

    def end_text(self) -> None:
        ops, self._batch = self._batch, None
        self._out(" ".join([*ops, "ET", "Q"]))
        # Q restored the font that was set before the batch, and so whether one was set.
        self.current_font_is_set_on_page = self._font_was_set

    def draw(
        self, x: float, baseline: float, text: str, size: float, width: float, leading: float = 0
    ) -> int:
        """Draw text within width (see fit), lines `leading` apart; return the lines drawn."""
        size, lines = self.fit(text, size, width)
        for number, line in enumerate(lines):
            self.draw_line(x, baseline + number * (leading or size * 0.45), line, size)
        return len(lines)

    def _shaped_ops(
        self, ops: list[str], font, size: float, x: float, baseline: float, piece: str
    ) -> float:
        """Shape one run with HarfBuzz and add its glyphs, in visual order, as fpdf2's
        Fragment.render_with_text_shaping() does; return where it ends."""
        scale = font.scale * size / 1000 / self.k
        y = (self.h - baseline) * self.k
        ops.append(f"1 0 0 1 {x * self.k:.2f} {y:.2f} Tm")
        pending: list[str] = []
        position = x

        def flush() -> None:
            if pending:
                ops.append(f"({font.escape_text(''.join(pending))}) Tj")
                pending.clear()

        for code, x_advance, x_offset, y_offset, moved in self._shape(font, size, piece):
            if moved:
                flush()
                ops.append(
                    f"1 0 0 1 {(position + x_offset * scale) * self.k:.2f} "
                    f"{y + y_offset * scale * self.k:.2f} Tm"
                )
            pending.append(chr(code))
            position += x_advance * scale
            if moved:
                flush()
                ops.append(f"1 0 0 1 {position * self.k:.2f} {y:.2f} Tm")
        flush()
        return position

    def _shape(self, font, size: float, piece: str):
        """(subset code, x advance, x offset, y offset, needs positioning) for each glyph, as
        fpdf2's TTFFont.shape_text() gives, with each glyph's subset code and width looked up
        once per document rather than once per use."""
        infos, positions = font.perform_harfbuzz_shaping(piece, size, {"features": {}})
        # The characters each cluster stands for, given to the first glyph of the cluster (so
        # that the text can be copied and searched), as shape_text() does.
        starts = sorted({int(info.cluster) for info in infos})
        owned: dict[int, list[int]] = {}
        for index, char in enumerate(piece):
            owner = starts[max(0, bisect.bisect_right(starts, index) - 1)]
            owned.setdefault(owner, []).append(ord(char))
        glyphs = self._glyphs.setdefault(font.i, {})
        for info, position in zip(infos, positions, strict=True):
            unicode = tuple(owned.pop(info.cluster, ()))
            known = glyphs.get((info.codepoint, unicode))
            if known is None:
                name = font.ttfont.getGlyphName(info.codepoint)
                width = round(font.scale * font.ttfont["hmtx"].metrics[name][0])
                glyph = font.subset.get_glyph(
                    glyph=info.codepoint, unicode=unicode, glyph_name=name, glyph_width=width
                )
                code = None if glyph is None else font.subset.pick_glyph(glyph)
                known = glyphs[(info.codepoint, unicode)] = (code, width)
            code, width = known
            if code is None:
                continue
            moved = bool(
                position.x_offset
                or position.y_offset
                or position.y_advance
                or width != position.x_advance
            )
            yield code, position.x_advance, position.x_offset, position.y_offset, moved

    def paragraph(self, text: str, size: float = 10, style: str = "", gap: float = 2) -> None:
        self.set_text_shaping(True)
        self.set_font("NotoSans", style=style, size=size)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if text and self.runs(text)[0][0] != "NotoSans":
            # fpdf2 sets the page's font to the fallback one the paragraph begins with, then
            # takes its own as still set: the next text in the same font and size would be
            # drawn with the fallback's glyphs. It must set its font again.
            self.current_font_is_set_on_page = False
        self.set_text_shaping(False)
        self.ln(gap)


def _signer_rows(petition: Petition) -> Iterable[SignerRow]:
    """Counted signatures, in the order they were confirmed."""
    rows = (
        petition.signatures.counted()
        .order_by("verified_at", "pk")
        .values_list("name", "city", "country", "verified_at")
        .iterator(chunk_size=5000)
    )
    for name, city, country, verified_at in rows:
        yield SignerRow(name, city, country, verified_at)


def _country_counts(petition: Petition) -> list[tuple[str, int]]:
    counts = (
        petition.signatures.counted()
        .values("country")
        .annotate(n=Count("pk"))
        .values_list("country", "n")
    )
    return sorted(((country_name(c), n) for c, n in counts), key=lambda item: (-item[1], item[0]))


def _date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return _day(value)


def _day(value: date) -> str:
    return memos.DATES.get(("long", value), lambda: f"{value.day} {value:%B %Y}")


def _short_date(value: datetime | None) -> str:
    """A date in the list of signers: "24 Oct 2026", short enough to share a line."""
    return _short_day(timezone.localtime(value).date()) if value else ""


def _short_day(value: date) -> str:
    return memos.DATES.get(("short", value), lambda: f"{value.day} {value:%b %Y}")


def _versions(words: Words, content: Translated, name: str) -> list[str]:
    """content's `name` in the recipient's language and then in its own original (a campaign
    may be written first in another language than its petition), or in its original alone
    when it is not translated into the recipient's. One version when the document is in one
    language (Words with none beside)."""
    recipient, original = words.language, content.original_language
    if not content.has_language(recipient):
        return [content.version(name, original)]
    if words.beside is None or recipient == original:
        return [content.version(name, recipient)]
    return [content.version(name, recipient), content.version(name, original)]


def _in_versions(
    pdf: PetitionPDF,
    versions: list[str],
    size: float,
    gap: float,
    style: str = "",
    original_size: float | None = None,
) -> None:
    """Each version a paragraph: the translation, then the original in grey."""
    for index, text in enumerate(versions):
        if index:
            pdf.set_text_color(*GREY)
        last = index == len(versions) - 1
        shown = original_size if index and original_size else size
        pdf.paragraph(text, size=shown, style=style, gap=gap if last else 1)
    pdf.set_text_color(0)


def _cover(
    pdf: PetitionPDF, petition: Petition, presentation: Presentation | None, online: int, paper: int
) -> None:
    campaign = petition.campaign
    words = pdf.words
    pdf.add_page()
    pdf.set_text_color(*ACCENT)
    pdf.paragraph(campaign.organisation.name, size=11, style="B", gap=0)
    pdf.set_text_color(*GREY)
    pdf.paragraph(" / ".join(_versions(words, campaign, "title")), size=10, gap=4)
    pdf.set_text_color(0)
    _in_versions(pdf, _versions(words, petition, "title"), 20, 3, "B", original_size=14)
    targets = _versions(words, petition, "target")
    if len(targets) == 1:
        pdf.paragraph(f"{words(TO)} {targets[0]}", size=12, gap=5)
    else:  # each language's "To:" with its own version
        _in_versions(
            pdf, [f"{to} {t}" for to, t in zip(words.versions(TO), targets, strict=True)], 12, 5
        )
    _in_versions(pdf, _versions(words, petition, "statement"), size=10.5, gap=3)
    demands = list(petition.demands.all())
    if demands:
        pdf.paragraph(words(gettext_noop("We ask:")), size=10.5, style="B", gap=1)
        for number, demand in enumerate(demands, start=1):
            versions = [f"{number}. {text}" for text in _versions(words, demand, "text")]
            _in_versions(pdf, versions, size=10.5, gap=1)
        pdf.ln(3)

    opened = _date(petition.opens_at or petition.created_at)
    closed = _date(petition.closes_at) if petition.closes_at else ""
    open_for = f"{opened} – {closed}" if closed else f"from {opened}"
    facts = [(words(gettext_noop("Open for signatures")), open_for)]
    if presentation is not None:
        facts += [
            (words(gettext_noop("Presented")), _date(presentation.presented_on)),
            (words(gettext_noop("Place")), presentation.place),
            (words(gettext_noop("Received by")), presentation.recipient),
            (words(gettext_noop("Presented by")), presentation.presented_by),
        ]
        if presentation.seal:  # none on presentations sealed before there were seals
            facts.append((words(gettext_noop("Seal of this document")), presentation.seal))
    facts += [
        (words(gettext_noop("Signatures online (confirmed by email)")), f"{online:,}"),
        (words(gettext_noop("Signatures on paper")), f"{paper:,}"),
        (words(gettext_noop("Total signatures")), f"{online + paper:,}"),
    ]
    pdf.set_draw_color(200)
    pdf.set_text_shaping(True)
    with pdf.table(
        col_widths=(45, 55), text_align=("LEFT", "LEFT"), first_row_as_headings=False, line_height=6
    ) as table:
        for label, value in facts:
            row = table.row()
            pdf.set_font("NotoSans", "B", 10)
            row.cell(label)
            pdf.set_font("NotoSans", "", 10)
            row.cell(value)
    pdf.set_text_shaping(False)


def _country_table(pdf: PetitionPDF, counts: list[tuple[str, int]], paper: int) -> None:
    pdf.add_page()
    pdf.paragraph(pdf.words(gettext_noop("Signatures by country")), size=14, style="B", gap=2)
    if paper:
        note = gettext_noop(
            "Online signatures, by the country each signer gave. The %(paper)s signatures "
            "collected on paper are counted in the total but not by country."
        )
        for version in pdf.words.versions(note, paper=f"{paper:,}"):
            pdf.paragraph(version, size=9, gap=3)
    if not counts:
        for version in pdf.words.versions(gettext_noop("No online signatures.")):
            pdf.paragraph(version, size=10)
        return
    per_column = -(-len(counts) // COLUMNS)
    column_width = (pdf.epw - COLUMN_GAP * (COLUMNS - 1)) / COLUMNS
    top = pdf.get_y() + 3
    for index, (name, n) in enumerate(counts):
        column, line = divmod(index, per_column)
        x = PAGE_MARGIN + column * (column_width + COLUMN_GAP)
        baseline = top + line * 4.6
        if baseline > pdf.h - PAGE_MARGIN - 8:  # very many countries: carry on next page
            pdf.add_page()
            top = pdf.get_y() + 3 - line * 4.6
            baseline = top + line * 4.6
        pdf.draw(x, baseline, name, 9, column_width - 16)
        pdf.set_font("NotoSans", size=9)
        pdf.text(x + column_width - pdf.get_string_width(f"{n:,}"), baseline, f"{n:,}")


def _details_lines(pdf: PetitionPDF, row: SignerRow, width: float) -> list[tuple[list[str], float]]:
    """The town, country and date under a name, as lines of pieces with their size. The town is
    a piece of its own, so that a right-to-left town does not reorder the rest of the line."""
    tail = f"{country_name(row.country)} · {_short_date(row.signed_at)}"
    if not row.city:
        size, lines = pdf.fit(tail, DETAIL_SIZE, width)
        return [([line], size) for line in lines]
    together = pdf.text_width(row.city, DETAIL_SIZE) + pdf.tail_width(", " + tail)
    if together <= width:
        return [([row.city, ", " + tail], DETAIL_SIZE)]
    city_size, city_lines = pdf.fit(row.city + ",", DETAIL_SIZE, width)
    tail_size, tail_lines = pdf.fit(tail, DETAIL_SIZE, width)
    return [([line], city_size) for line in city_lines] + [
        ([line], tail_size) for line in tail_lines
    ]


def _signer_list(
    pdf: PetitionPDF,
    rows: Iterable[SignerRow],
    expected: int,
    on_progress: Callable[[int], None] | None,
) -> int:
    pdf.add_page()
    pdf.paragraph(pdf.words(gettext_noop("Signatures")), size=14, style="B", gap=1)
    pdf.set_auto_page_break(False)
    column_width = (pdf.epw - COLUMN_GAP * (COLUMNS - 1)) / COLUMNS
    bottom = pdf.h - PAGE_MARGIN - 8
    columns_top = pdf.get_y() + 3  # below the heading on the first page, the margin after
    column, y, number = 0, columns_top, 0
    pdf.set_font("NotoSans", size=NAME_SIZE)
    indent = pdf.get_string_width(f"{max(expected, 1):,}.") + 2
    width = column_width - indent
    for number, row in enumerate(rows, start=1):
        name_size, name_lines = pdf.fit(row.name, NAME_SIZE, width)
        details = _details_lines(pdf, row, width)
        height = len(name_lines) * NAME_LINE + len(details) * DETAIL_LINE + ENTRY_GAP
        if y + height > bottom:
            column += 1
            if column == COLUMNS:
                pdf.add_page()
                column, columns_top = 0, PAGE_MARGIN + 6
            y = columns_top
        x = PAGE_MARGIN + column * (column_width + COLUMN_GAP)
        pdf.begin_text()
        pdf.draw_line(x, y + NAME_LINE, f"{number:,}.", NAME_SIZE, grey=True)
        for line in name_lines:
            y += NAME_LINE
            pdf.draw_line(x + indent, y, line, name_size, measure=False)
        for pieces, size in details:
            y += DETAIL_LINE
            after = x + indent
            for index, piece in enumerate(pieces, start=1):
                last = index == len(pieces)
                after = pdf.draw_line(after, y, piece, size, grey=True, measure=not last)
        pdf.end_text()
        y += ENTRY_GAP
        if on_progress and number % PROGRESS_EVERY == 0:
            on_progress(number)
    if number == 0:
        for version in pdf.words.versions(gettext_noop("No online signatures.")):
            pdf.paragraph(version, size=10)
    pdf.set_auto_page_break(True, margin=PAGE_MARGIN + 4)
    return number


class DocumentMismatch(Exception):
    """The signatures listed are not the ones a presentation sealed."""


def presentation_pdf(
    petition: Petition,
    target: Path,
    presentation: Presentation | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[int, str]:
    """Write the presentation document to `target`; return (online signatures listed, SHA-256).

    Everything in it is read in one snapshot (counting.snapshot), so the cover's counts, the
    table by country and the list agree. For a presentation the cover gives the counts it
    sealed and its seal, and the document is refused (DocumentMismatch) unless the list holds
    exactly that many signatures. Without one it is a preview, dated by the last confirmation.
    Written in the petition's original language with the recipient's beside it (Words),
    whatever language is active where it is asked for."""
    with counting.snapshot(), translation.override(settings.LANGUAGE_CODE):
        petition = Petition.objects.select_related("campaign__organisation").get(pk=petition.pk)
        counted = petition.signatures.counted()
        if presentation is not None:
            online, paper = presentation.online_count, presentation.paper_count
            created = datetime.combine(
                presentation.presented_on,
                datetime.min.time(),
                tzinfo=timezone.get_current_timezone(),
            )
        else:
            online, paper = counted.count(), petition.paper_count
            last = counted.order_by("-verified_at").values_list("verified_at", flat=True).first()
            created = last or petition.created_at
        original = petition.language
        title = petition.version("title", original)
        pdf = PetitionPDF(
            f"{title} — {petition.campaign.organisation.name}",
            created,
            Words(petition.recipient_language, original),
        )
        pdf.set_title(title)
        pdf.set_author(petition.campaign.organisation.name)
        pdf.set_subject(f"A petition to {petition.version('target', original)}")
        _cover(pdf, petition, presentation, online, paper)
        _country_table(pdf, _country_counts(petition), paper)
        listed = _signer_list(pdf, _signer_rows(petition), online, on_progress)
    if presentation is not None and listed != online:
        raise DocumentMismatch(
            f"{listed:,} signatures are listed, but {online:,} were sealed when the petition "
            "was presented."
        )
    data = bytes(pdf.output())
    target.write_bytes(data)
    return listed, hashlib.sha256(data).hexdigest()


def paper_sheet_pdf(petition: Petition) -> bytes:
    """A blank A4 sheet for collecting signatures on paper at events, in the active language
    (the page's it is printed from)."""
    organisation = petition.campaign.organisation
    words = Words(translation.get_language() or settings.LANGUAGE_CODE, beside=None)
    pdf = PetitionPDF(petition.title, petition.created_at, words)
    pdf.set_title(words(gettext_noop("Paper signature sheet: %(title)s"), title=petition.title))
    pdf.add_page()
    pdf.set_text_color(*ACCENT)
    pdf.paragraph(organisation.name, size=10, style="B", gap=0)
    pdf.set_text_color(0)
    pdf.paragraph(petition.title, size=16, style="B", gap=1)
    pdf.paragraph(f"{words(TO)} {petition.target}", size=10.5, gap=2)
    for number, demand in enumerate(petition.demands.all(), start=1):
        pdf.paragraph(f"{number}. {demand.text}", size=9, gap=0.5)
    pdf.ln(2)
    pdf.set_text_shaping(True)
    pdf.set_font("NotoSans", size=9.5)
    pdf.set_draw_color(120)
    with pdf.table(
        col_widths=(8, 60, 40, 35, 40),
        line_height=9.4,
        text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "LEFT"),
    ) as table:
        heading = table.row()
        columns = ("Name", "Town or city", "Country", gettext_noop("Signature"))
        for title in ("", *columns):
            heading.cell(words(title) if title else "")
        rows = max(8, int((pdf.h - pdf.get_y() - 40) // 9.4) - 1)
        for number in range(1, rows + 1):
            row = table.row()
            row.cell(str(number))
            for _ in range(4):
                row.cell("")
    pdf.set_text_shaping(False)
    pdf.ln(3)
    consent = gettext_noop(
        "By signing you agree that %(organisation)s keeps your name, town and country to "
        "present this petition, which lists them, to its recipient. Please return this sheet "
        "to %(organisation)s."
    )
    pdf.paragraph(words(consent, organisation=organisation.name), size=8)
    return bytes(pdf.output())
