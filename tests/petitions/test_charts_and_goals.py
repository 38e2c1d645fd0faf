from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from petitions import charts, counting
from petitions.models import Petition, Signature, raised_goal
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


def test_a_petition_without_signatures_has_no_charts(client, petition):
    page = client.get(petition.get_absolute_url()).content.decode()

    assert "<svg" not in page
    assert "Signatures over time" not in page


def test_the_charts_show_on_the_petition_page(client, petition):
    signed(petition, 2, datetime(2025, 3, 1, tzinfo=UTC))

    page = client.get(petition.get_absolute_url()).content.decode()

    assert "Signatures over time" in page and 'class="chart chart-timeline"' in page
    assert "Where people signed from" in page and 'class="chart chart-countries"' in page


def test_staff_see_the_charts_on_the_petition_in_the_admin(client, superuser, petition):
    signed(petition, 2, datetime(2025, 3, 1, tzinfo=UTC))
    client.force_login(superuser)

    page = client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()

    assert 'class="chart chart-timeline"' in page and 'class="chart chart-countries"' in page
