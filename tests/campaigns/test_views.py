from __future__ import annotations

from datetime import UTC, datetime

from campaigns.models import Campaign, Event, Story
from petitions.models import Petition
from tests.conftest import make_petition


def test_home_lists_live_campaigns_with_their_petitions_and_counts(client, campaign, petition):
    Petition.objects.filter(pk=petition.pk).update(signature_count=1234)  # as counting keeps it
    petition.refresh_from_db()
    make_petition(campaign, "second", title_en="Second petition", signature_count=5)

    page = client.get("/").content.decode()

    assert campaign.title in page
    assert petition.title in page and "Second petition" in page
    assert "1,234" in page


def test_home_hides_drafts(client, organisation, campaign, draft_petition):
    Campaign.objects.create(organisation=organisation, title_en="Secret plan", slug="secret")

    page = client.get("/").content.decode()

    assert "Secret plan" not in page
    assert draft_petition.title not in page


def test_home_takes_a_fixed_number_of_queries(client, campaign, django_assert_max_num_queries):
    for n in range(5):
        make_petition(campaign, f"p{n}")
    for n in range(3):
        other = Campaign.objects.create(
            organisation=campaign.organisation, title_en=f"C{n}", slug=f"c{n}", status="live"
        )
        make_petition(other, f"o{n}")

    with django_assert_max_num_queries(3):
        assert client.get("/").status_code == 200


def test_the_campaign_page_shows_stories_events_and_petitions(client, campaign, petition):
    Story.objects.create(
        campaign=campaign,
        title_en="Across the river",
        pseudonym_en="'Min-ji'",
        body_en="She crossed at night.",
    )
    Event.objects.create(
        campaign=campaign,
        city_en="Washington D.C.",
        country="US",
        venue_en="Embassy of China",
        starts_at=datetime(2018, 9, 24, 12, tzinfo=UTC),
    )

    page = client.get(campaign.get_absolute_url()).content.decode()

    assert "Across the river" in page and "She crossed at night." in page
    assert "Washington D.C., United States of America" in page
    assert petition.title in page


def test_a_draft_campaign_is_not_public(client, organisation):
    draft = Campaign.objects.create(organisation=organisation, title_en="Draft", slug="draft")

    assert client.get(draft.get_absolute_url()).status_code == 404


def test_an_ended_campaign_stays_visible_as_a_record(client, campaign, petition):
    campaign.status = Campaign.Status.ENDED
    campaign.save()
    petition.status = Petition.Status.CLOSED
    petition.save()

    assert client.get(campaign.get_absolute_url()).status_code == 200
    assert campaign.title not in client.get("/").content.decode()


def test_the_privacy_page_explains_what_is_kept(client, db):
    page = client.get("/privacy/").content.decode()

    assert "never given to the petition" in page
