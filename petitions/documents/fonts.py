"""Fonts for PDF documents, in every script people sign with.

The Noto fonts come from PyPI packages (SIL Open Font License 1.1) as variable fonts. fpdf2 needs
static fonts, and instancing a CJK variable font takes tens of seconds, so each static instance
is built once into settings.FONT_CACHE_DIR (under a lock, written atomically) and reused.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FontSource:
    family: str
    package: str
    path: str
    bold: bool = False  # also build a bold instance (for headings)
    shaping: bool = False  # needs text shaping (joining, right-to-left)


# In fallback order: the first font that has a character draws it. Korean before Chinese before
# Japanese, so Hangul, Hanzi and Kana each get the glyphs drawn for their own language.
SOURCES = [
    FontSource("NotoSans", "fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf", bold=True),
    FontSource("NotoSansKR", "justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf"),
    FontSource("NotoSansSC", "justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"),
    FontSource("NotoSansJP", "justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP[wght].ttf"),
    FontSource(
        "NotoSansArabic",
        "justmytype_intl_rtl",
        "fonts/ofl/notosansarabic/NotoSansArabic[wdth,wght].ttf",
        shaping=True,
    ),
    FontSource(
        "NotoSansHebrew",
        "justmytype_intl_rtl",
        "fonts/ofl/notosanshebrew/NotoSansHebrew[wdth,wght].ttf",
        shaping=True,
    ),
]


def _source_file(source: FontSource) -> Path:
    return Path(str(resources.files(source.package).joinpath(source.path)))


def _static_path(source: FontSource, weight: int) -> Path:
    src = _source_file(source)
    # The source's size and mtime name the instance, so an upgraded package builds anew ("s":
    # instances that keep the source's timestamp).
    stamp = f"{src.stat().st_size}-{int(src.stat().st_mtime)}s"
    return settings.FONT_CACHE_DIR / f"{source.family}-{weight}-{stamp}.ttf"


def _build_instance(source: FontSource, weight: int, target: Path) -> None:
    from fontTools.ttLib import TTFont
    from fontTools.varLib.instancer import instantiateVariableFont

    # The source's timestamp, not the time of the build: fpdf2 embeds the font's head table, and
    # a sealed document's bytes must not depend on when a worker built its font cache.
    font = TTFont(_source_file(source), recalcTimestamp=False)
    axes = {axis.axisTag: axis.defaultValue for axis in font["fvar"].axes}
    axes["wght"] = weight
    if "wdth" in axes:
        axes["wdth"] = 100
    instantiateVariableFont(font, axes, inplace=True, optimize=False, updateFontNames=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    font.save(partial)
    partial.replace(target)


def static_fonts() -> dict[tuple[str, str], Path]:
    """{(family, style): path} for every font, building what is missing ("" regular, "B" bold)."""
    wanted = {}
    for source in SOURCES:
        wanted[(source.family, "")] = (source, 400)
        if source.bold:
            wanted[(source.family, "B")] = (source, 700)
    paths = {key: _static_path(source, weight) for key, (source, weight) in wanted.items()}
    missing = [key for key, path in paths.items() if not path.exists()]
    if missing:
        settings.FONT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with open(settings.FONT_CACHE_DIR / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same fonts
            for key in missing:
                if not paths[key].exists():
                    log.info("building font instance %s %s", *key)
                    _build_instance(*wanted[key], paths[key])
    return paths


def shaping_families() -> set[str]:
    return {source.family for source in SOURCES if source.shaping}
