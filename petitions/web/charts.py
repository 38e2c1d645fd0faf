"""Charts drawn as inline SVG on the server: nothing from other sites, readable on a phone.

The figures come from the counts kept by country and by hour (services/counting.py), cached
under a key that includes the petition's count, so they are never staler than the count beside
them. This module works out the coordinates, labels and shades; the markup is in
templates/includes/charts/, where autoescaping escapes the names.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django_countries import countries

from config import memos
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
        return SafeString()
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
    first, last = date_format(start, "SHORT_DATE_FORMAT"), date_format(end, "SHORT_DATE_FORMAT")
    return render_to_string(
        "includes/charts/timeline.svg",
        {
            "width": WIDTH,
            "height": HEIGHT,
            "font": FONT,
            "left": PAD,
            "right": WIDTH - PAD,
            "axis_y": HEIGHT - PAD,
            "dates_y": HEIGHT - 10,
            "total_y": PAD - 12,
            "line": line,
            "first": first,
            "last": last,
            "total": f"{total:,}",
            "label": ngettext(
                "%(total)s online signature from %(first)s to %(last)s",
                "%(total)s online signatures from %(first)s to %(last)s",
                total,
            )
            % {"total": f"{total:,}", "first": first, "last": last},
        },
    )


def countries_svg(petition: Petition) -> SafeString:
    """Where online signers are: the top countries as bars."""
    rows = by_country(petition)
    if not rows:
        return SafeString()
    shown = rows[:TOP_COUNTRIES]
    others = sum(n for _, n in rows[TOP_COUNTRIES:])
    if others:
        shown.append(("", others))
    top = max(n for code, n in shown if code)  # "other countries" gets its count, not a bar
    bar, gap, label_w = 30, 8, 250
    bars = []
    for index, (code, n) in enumerate(shown):
        more = len(rows) - TOP_COUNTRIES
        name = countries.name(code) if code else ngettext("%d other", "%d others", more) % more
        if len(name) > 18:  # the full names are in the chart's label
            name = name[:17] + "…"
        y = index * (bar + gap)
        width = max(2, (WIDTH - label_w - 80) * n / top) if code else 0
        bars.append(
            {
                "name": name,
                "count": f"{n:,}",
                "y": y,
                "text_y": y + bar - 8,
                "width": f"{width:.1f}" if width else "",
                "count_x": f"{label_w + width + 6:.1f}",
            }
        )
    other = gettext("other countries")
    label = ", ".join(f"{countries.name(code) if code else other}: {n:,}" for code, n in shown)
    return render_to_string(
        "includes/charts/countries.svg",
        {
            "width": WIDTH,
            "height": len(shown) * (bar + gap),
            "font": FONT,
            "bar_height": bar,
            "bar_x": label_w,
            "name_x": label_w - 8,
            "bars": bars,
            "label": label,
        },
    )


WORLD = "vendor/worldmap/world.svg"  # built by `manage.py build_world_map`, 1000 wide
SHADES = ["#c7e6d4", "#8fcca9", "#52a878", "#198754", "#0b4a2c"]
MAP_FONT, LEGEND = 36, 76  # the map is drawn 1000 wide, not 600: larger text to match


def world_outlines() -> tuple[frozenset[str], int, int]:
    """(country codes the outlines have, width, height); a few tiny territories are not on it."""
    return memos.WORLD_MAP.get(WORLD, _read_world_outlines)


def _read_world_outlines() -> tuple[frozenset[str], int, int]:
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
        return SafeString()
    _, width, height = world_outlines()
    top = max(n for _, n in rows)
    steps = len(SHADES)

    def step(n: int) -> int:
        return min(steps - 1, int(steps * math.log(n) / math.log(top))) if top > 1 else steps - 1

    shaded = [
        {"id": code.lower(), "fill": SHADES[step(n)], "title": f"{countries.name(code)}: {n:,}"}
        for code, n in rows
    ]
    # Legend: the lowest count that each shade stands for.
    legend_y, box = height + 16, 44
    floors = sorted({max(1, math.ceil(top ** (k / steps))) for k in range(steps)})
    legend = []
    for index, floor in enumerate(floors):
        x = 10 + index * 200
        legend.append(
            {"x": x, "text_x": x + box + 10, "fill": SHADES[step(floor)], "floor": f"{floor:,}"}
        )
    label = gettext("Map of where people signed from: %(countries)s") % {
        "countries": ", ".join(f"{countries.name(code)}: {n:,}" for code, n in rows[:TOP_COUNTRIES])
    }
    if len(rows) > TOP_COUNTRIES:
        more = len(rows) - TOP_COUNTRIES
        label += ngettext(", and %(more)d more country", ", and %(more)d more countries", more) % {
            "more": more
        }
    return render_to_string(
        "includes/charts/world_map.svg",
        {
            "width": width,
            "height": height + LEGEND,
            "font": MAP_FONT,
            "outlines": static(WORLD),
            "shaded": shaded,
            "legend": legend,
            "legend_y": legend_y,
            "legend_text_y": legend_y + box - 9,
            "box": box,
            "label": label,
        },
    )
