"""Charts drawn as inline SVG on the server: nothing from other sites, readable on a phone.

The figures come from the counts kept by country and by hour (petitions/counting.py), cached
under a key that includes the petition's count, so they are never staler than the count beside
them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django_countries import countries

from .models import Petition

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
