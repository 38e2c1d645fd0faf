"""Charts drawn as inline SVG on the server: nothing from other sites, readable on a phone.

The figures come from the counts kept by country and by hour (services/counting.py), cached
under a key that includes the petition's count, so they are never staler than the count beside
them.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django_countries import countries

from petitions.models import Petition

# Drawn 600 wide and scaled to fit: on a phone that is about half size, so the text is large.
WIDTH, HEIGHT, PAD = 600, 240, 44
FONT = 22
TOP_COUNTRIES = 10


def timeline(petition: Petition) -> list[tuple[datetime, int]]:
    """(bucket start, signatures confirmed in it): by hour over the first three days, by day
    after that."""
    key = f"timeline:{petition.pk}:{petition.signature_count}"
    points = cache.get(key)
    if points is None:
        hours = list(
            petition.hourly_counts.exclude(count=0).order_by("hour").values_list("hour", "count")
        )
        points = hours
        if hours and timezone.now() - hours[0][0] >= timedelta(days=3):
            days: dict[datetime, int] = {}
            for hour, n in hours:
                day = hour.replace(hour=0)
                days[day] = days.get(day, 0) + n
            points = list(days.items())
        cache.set(key, points, 60)
    return points


def by_country(petition: Petition) -> list[tuple[str, int]]:
    key = f"chart-countries:{petition.pk}:{petition.signature_count}"
    rows = cache.get(key)
    if rows is None:
        rows = list(
            petition.country_counts.filter(count__gt=0)
            .order_by("-count", "country")
            .values_list("country", "count")
        )
        cache.set(key, rows, 60)
    return rows


def timeline_svg(petition: Petition) -> SafeString:
    """The running total of online signatures over time, as a line."""
    points = timeline(petition)
    if not points:
        return mark_safe("")  # noqa: S308 - empty
    start, end = points[0][0], points[-1][0]
    span = (end - start).total_seconds() or 1
    total, coordinates = 0, [(0.0, 0)]
    for when, n in points:
        total += n
        coordinates.append(((when - start).total_seconds() / span, total))
    if len(points) == 1:  # one bucket: rise across the whole width
        coordinates = [(0.0, 0), (1.0, total)]
    top = max(total, 1)
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    line = " ".join(
        f"{PAD + x * plot_w:.1f},{HEIGHT - PAD - count / top * plot_h:.1f}"
        for x, count in coordinates
    )
    label = f"{total:,} online signatures from {start:%-d %b %Y} to {end:%-d %b %Y}"
    return mark_safe(  # noqa: S308 - every value is a number or escaped
        f'<svg class="chart chart-timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#adb5bd"/>'
        f'<polyline fill="none" stroke="#198754" stroke-width="3" points="{line}"/>'
        f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="{FONT}" fill="#6c757d">'
        f"{start:%-d %b %Y}</text>"
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" font-size="{FONT}" fill="#6c757d" '
        f'text-anchor="end">{end:%-d %b %Y}</text>'
        f'<text x="{PAD}" y="{PAD - 12}" font-size="{FONT}" fill="#212529">{total:,}</text>'
        "</svg>"
    )


def countries_svg(petition: Petition) -> SafeString:
    """Where online signers are: the top countries as bars."""
    rows = by_country(petition)
    if not rows:
        return mark_safe("")  # noqa: S308 - empty
    shown = rows[:TOP_COUNTRIES]
    others = sum(n for _, n in rows[TOP_COUNTRIES:])
    if others:
        shown.append(("", others))
    top = max(n for code, n in shown if code)  # "other countries" gets its count, not a bar
    bar, gap, label_w = 30, 8, 250
    height = len(shown) * (bar + gap)
    parts = []
    for index, (code, n) in enumerate(shown):
        name = countries.name(code) if code else f"{len(rows) - TOP_COUNTRIES} others"
        if len(name) > 18:  # the full names are in the chart's label
            name = name[:17] + "…"
        y = index * (bar + gap)
        width = max(2, (WIDTH - label_w - 80) * n / top) if code else 0
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar - 8}" font-size="{FONT}" text-anchor="end" '
            f'fill="#212529">{escape(name)}</text>'
        )
        if width:
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{bar}" rx="3" '
                'fill="#198754"/>'
            )
        parts.append(
            f'<text x="{label_w + width + 6:.1f}" y="{y + bar - 8}" font-size="{FONT}" '
            f'fill="#212529">{n:,}</text>'
        )
    label = ", ".join(
        f"{countries.name(code) if code else 'other countries'}: {n:,}" for code, n in shown
    )
    return mark_safe(  # noqa: S308 - every value is a number or escaped
        f'<svg class="chart chart-countries" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}">{"".join(parts)}</svg>'
    )


WORLD = "vendor/worldmap/world.svg"  # built by `manage.py build_world_map`, 1000 wide
SHADES = ["#c7e6d4", "#8fcca9", "#52a878", "#198754", "#0b4a2c"]
MAP_FONT, LEGEND = 36, 76  # the map is drawn 1000 wide, not 600: larger text to match


@functools.cache
def world_outlines() -> tuple[frozenset[str], int, int]:
    """(country codes the outlines have, width, height); a few tiny territories are not on it."""
    text = Path(finders.find(WORLD)).read_text()
    width, height = re.search(r'viewBox="0 0 (\d+) (\d+)"', text).groups()
    return frozenset(re.findall(r'id="([a-z]{2})"', text)), int(width), int(height)


def countries_on_the_map() -> frozenset[str]:
    return world_outlines()[0]


def world_map_svg(petition: Petition) -> SafeString:
    """Every country with signers, shaded by how many (five steps on a log scale, a legend
    below), on a map drawn from the vendored outlines: <use> refers to them, so the page only
    carries one line per country and the browser fetches the outlines once."""
    rows = [(code, n) for code, n in by_country(petition) if code.lower() in countries_on_the_map()]
    if not rows:
        return mark_safe("")  # noqa: S308 - empty
    url = escape(static(WORLD))
    _, width, height = world_outlines()
    top = max(n for _, n in rows)
    steps = len(SHADES)

    def step(n: int) -> int:
        return min(steps - 1, int(steps * math.log(n) / math.log(top))) if top > 1 else steps - 1

    parts = [f'<use href="{url}#world" fill="#e9ecef" stroke="#fff" stroke-width="0.6"/>']
    for code, n in rows:
        name = escape(countries.name(code))
        parts.append(
            f'<use href="{url}#{code.lower()}" fill="{SHADES[step(n)]}" stroke="#fff" '
            f'stroke-width="0.6"><title>{name}: {n:,}</title></use>'
        )
    # Legend: the lowest count that each shade stands for.
    y, box = height + 16, 44
    floors = sorted({max(1, math.ceil(top ** (k / steps))) for k in range(steps)})
    for index, floor in enumerate(floors):
        x = 10 + index * 200
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box}" height="{box}" rx="4" '
            f'fill="{SHADES[step(floor)]}"/>'
            f'<text x="{x + box + 10}" y="{y + box - 9}" font-size="{MAP_FONT}" '
            f'fill="#212529">{floor:,}+</text>'
        )
    label = "Map of where people signed from: " + ", ".join(
        f"{countries.name(code)}: {n:,}" for code, n in rows[:TOP_COUNTRIES]
    )
    if len(rows) > TOP_COUNTRIES:
        label += f", and {len(rows) - TOP_COUNTRIES} more countries"
    return mark_safe(  # noqa: S308 - every value is a number, a country code or escaped
        f'<svg class="chart chart-map" viewBox="0 0 {width} {height + LEGEND}" '
        f'role="img" aria-label="{escape(label)}">{"".join(parts)}</svg>'
    )
