from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from xml.etree import ElementTree

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from petitions.models import Petition, Signature, raised_goal
from petitions.services import counting
from petitions.web import charts
from tests.conftest import make_signature


@pytest.mark.parametrize(
    ("goal", "step", "count", "shown"),
    [
        (1000, 0, 999, 1000),
        (1000, 0, 1000, 2000),
        (1000, 0, 2000, 5000),
        (1000, 0, 12_345, 20_000),
        (50_000, 0, 50_000, 100_000),
        (1000, 500, 1000, 1500),
        (1000, 500, 1600, 2000),
        (0, 0, 5, 0),
    ],
)
def test_the_goal_is_raised_in_steps_once_reached(goal, step, count, shown):
    assert raised_goal(goal, step, count) == shown


def test_reached_goals_are_milestones(petition):
    Petition.objects.filter(pk=petition.pk).update(goal=1000, signature_count=5200)
    petition.refresh_from_db()

    assert petition.milestones == [5000, 2000, 1000]
    assert petition.current_goal == 10_000
    assert petition.progress_percent == 52


def test_the_page_shows_the_raised_goal_and_the_milestones(client, petition):
    Petition.objects.filter(pk=petition.pk).update(goal=1000, signature_count=1200)

    page = client.get(petition.get_absolute_url()).content.decode()

    assert 'class="signature-goal">2,000<' in page
    assert "Reached 1,000" in page


def signed(petition, n: int, when: datetime, country: str = "KR") -> None:
    for i in range(n):
        make_signature(
            petition,
            f"{when.timestamp()}-{i}@example.org",
            country=country,
            status=Signature.Status.CONFIRMED,
            verified_at=when,
        )
    counting.rebuild(petition)
    petition.refresh_from_db()


def test_the_timeline_counts_confirmed_signatures_by_day(petition):
    start = datetime(2025, 3, 1, 9, tzinfo=UTC)
    signed(petition, 2, start)
    signed(petition, 3, start + timedelta(days=5))
    make_signature(petition, "pending@example.org")

    with time_machine.travel(start + timedelta(days=10)):
        points = charts.timeline(petition)

    assert [n for _, n in points] == [2, 3]


def test_the_timeline_is_by_hour_in_the_first_days(petition):
    start = datetime(2025, 3, 1, 9, tzinfo=UTC)
    signed(petition, 1, start)
    signed(petition, 4, start + timedelta(hours=2))

    with time_machine.travel(start + timedelta(hours=5)):
        points = charts.timeline(petition)

    assert [(when.hour, n) for when, n in points] == [(9, 1), (11, 4)]


def test_the_charts_are_svg_with_escaped_text_and_a_description(petition):
    signed(petition, 3, datetime(2025, 3, 1, tzinfo=UTC), country="KR")
    signed(petition, 1, datetime(2025, 3, 2, tzinfo=UTC), country="CI")  # Côte d'Ivoire

    timeline = str(charts.timeline_svg(petition))
    countries = str(charts.countries_svg(petition))

    assert timeline.startswith("<svg") and 'role="img"' in timeline
    assert "4 online signatures" in timeline
    assert "South Korea" in countries and "C&#x27;te" not in countries
    assert "Côte d&#x27;Ivoire" in countries  # in the label; short in the drawing
    assert "<script" not in timeline + countries


def test_the_templates_escape_the_country_names(petition, monkeypatch):
    signed(petition, 2, datetime(2025, 3, 1, tzinfo=UTC), country="KR")
    monkeypatch.setattr(charts.countries, "name", lambda code: '<b>"A" & B</b>')
    escaped = "&lt;b&gt;&quot;A&quot; &amp; B&lt;/b&gt;"

    bars, world = str(charts.countries_svg(petition)), str(charts.world_map_svg(petition))

    assert "<b>" not in bars + world
    assert f'aria-label="{escaped}: 2"' in bars and f">{escaped}</text>" in bars
    assert f'aria-label="Map of where people signed from: {escaped}: 2"' in world
    assert f"<title>{escaped}: 2</title>" in world


def test_each_chart_is_well_formed_svg(petition):
    signed(petition, 3, datetime(2025, 3, 1, tzinfo=UTC), country="KR")
    signed(petition, 1, datetime(2025, 3, 2, tzinfo=UTC), country="CI")

    for svg in (
        charts.timeline_svg(petition),
        charts.countries_svg(petition),
        charts.world_map_svg(petition),
    ):
        root = ElementTree.fromstring(svg)  # noqa: S314 - our own markup
        assert root.tag == "svg" and root.get("role") == "img" and root.get("aria-label")
        assert root.get("viewBox").startswith("0 0 ")


def test_the_coordinates_are_not_localised(petition, settings):
    signed(petition, 1, datetime(2025, 3, 1, tzinfo=UTC), country="KR")
    settings.USE_THOUSAND_SEPARATOR = True

    with translation.override("de"):  # "1.000" and "0,6" would be other numbers in SVG
        svg = str(charts.world_map_svg(petition))

    assert 'viewBox="0 0 1000 ' in svg and 'stroke-width="0.6"' in svg


def test_a_petition_without_signatures_has_no_charts(client, petition):
    page = client.get(petition.get_absolute_url()).content.decode()

    assert "<svg" not in page
    assert "Signatures over time" not in page


def test_the_charts_show_on_the_petition_page(client, petition):
    signed(petition, 2, datetime(2025, 3, 1, tzinfo=UTC))

    page = client.get(petition.get_absolute_url()).content.decode()

    assert "Signatures over time" in page and 'class="chart chart-timeline"' in page
    assert "Where people signed from" in page and 'class="chart chart-countries"' in page
    assert 'class="chart chart-map"' in page


def test_staff_see_the_charts_on_the_petition_in_the_admin(client, superuser, petition):
    signed(petition, 2, datetime(2025, 3, 1, tzinfo=UTC))
    client.force_login(superuser)

    page = client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()

    assert 'class="chart chart-timeline"' in page and 'class="chart chart-countries"' in page
    assert 'class="chart chart-map"' in page


def test_the_map_shades_each_country_by_its_signers_on_a_log_scale(petition):
    signed(petition, 100, datetime(2025, 3, 1, tzinfo=UTC), country="KR")
    signed(petition, 10, datetime(2025, 3, 2, tzinfo=UTC), country="GB")
    signed(petition, 1, datetime(2025, 3, 3, tzinfo=UTC), country="SG")  # a dot on the map

    svg = str(charts.world_map_svg(petition))

    world = re.search(r'<use href="([^"]+)#world"', svg).group(1)
    assert world.endswith("vendor/worldmap/world.svg")
    shade = dict(re.findall(r'#([a-z]{2})" fill="(#[0-9a-f]{6})"', svg))
    assert set(shade) == {"kr", "gb", "sg"}
    assert shade["kr"] == charts.SHADES[-1] and shade["sg"] == charts.SHADES[0]
    assert charts.SHADES.index(shade["gb"]) == 2  # 10 is halfway to 100 on a log scale
    assert "<title>United Kingdom: 10</title>" in svg
    assert (
        'aria-label="Map of where people signed from: South Korea: 100, United Kingdom: 10,' in svg
    )
    assert ">1+</text>" in svg and ">40+</text>" in svg  # the legend's lowest count per shade


def test_the_map_leaves_out_countries_it_has_no_outline_for(petition):
    signed(petition, 2, datetime(2025, 3, 1, tzinfo=UTC), country="KR")
    signed(petition, 1, datetime(2025, 3, 2, tzinfo=UTC), country="BQ")  # not on the map

    svg = str(charts.world_map_svg(petition))

    assert "#kr" in svg and "#bq" not in svg
    assert "bq" not in charts.countries_on_the_map()


def test_the_vendored_outlines_have_the_world_and_its_countries():
    outlines = (Path(settings.BASE_DIR) / "static/vendor/worldmap/world.svg").read_text()

    assert '<g id="world">' in outlines
    assert len(charts.countries_on_the_map()) >= 180
    assert {"kr", "kp", "cn", "gb", "us", "ru", "br", "za", "au", "sg", "ad"} <= (
        charts.countries_on_the_map()
    )
    assert "fill=" not in outlines  # so that each <use> gives its own colour


def test_the_outlines_are_rebuilt_from_a_pygal_style_source(tmp_path, settings):
    source = tmp_path / "worldmap.svg"
    source.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2000 1000"><g id="countries">'
        '<g class="xa country map-element"><path d="m100 100h400v400h-400z"/></g>'
        '<g class="xb country map-element"><path d="M1000 100c10 0 390 0 400 0l0 400-400 0z'
        'm500 0l0.1 0 0 0.1z"/></g>'
        '<g class="xc country map-element"><path d="m1900 900l1 0 0 1z"/></g>'
        "</g></svg>"
    )
    settings.BASE_DIR = tmp_path

    call_command("build_world_map", str(source), stdout=StringIO())

    built = (tmp_path / "static/vendor/worldmap/world.svg").read_text()
    assert 'viewBox="0 0 1000 453"' in built  # down to the lowest point, plus a margin
    assert '<path id="xa" d="M50 50l200 0 0 200-200 0z"/>' in built
    assert '<path id="xb" d="M500 50l200 0 0 200-200 0z"/>' in built  # the speck is dropped
    assert re.search(r'<circle id="xc" cx="95\d" cy="45\d" r="2.5"/>', built)
