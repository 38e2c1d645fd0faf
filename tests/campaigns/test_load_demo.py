from __future__ import annotations

from django.core.management import call_command

from campaigns.models import Campaign, Event, Story
from petitions.models import Demand, Petition, Signature
from petitions.services import presenting


def load() -> None:
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_it_loads_the_four_campaigns_of_the_seed_content(db):
    load()

    titles = set(Campaign.objects.values_list("title_en", flat=True))
    assert {"Run for your Life", "Save North Korean Refugees Day"} <= titles
    assert Campaign.objects.count() == 4
    assert Event.objects.filter(campaign__slug="save-north-korean-refugees-day").count() == 22
    assert len(set(Event.objects.values_list("country", flat=True))) == 11
    assert Story.objects.filter(campaign__slug="run-for-your-life").count() == 3
    run = Petition.objects.get(slug="safe-passage-for-north-korean-refugees")
    assert run.target == "The Government of the People's Republic of China"
    assert run.demands.count() == 3
    assert run.is_accepting_signatures


def test_it_is_idempotent(db):
    load()
    counts = [m.objects.count() for m in (Campaign, Petition, Demand, Event, Story, Signature)]
    load()

    assert [m.objects.count() for m in (Campaign, Petition, Demand, Event, Story, Signature)] == (
        counts
    )


def test_its_counts_are_real_confirmed_signatures(db):
    load()

    for petition in Petition.objects.all():
        confirmed = petition.signatures.filter(status=Signature.Status.CONFIRMED).count()
        assert petition.signature_count == confirmed


def test_it_keeps_signatures_made_since_and_their_count(db, client):
    load()
    petition = Petition.objects.get(slug="letter-to-president-xi")
    Signature.objects.create(
        petition=petition,
        name="New",
        email="new@example.org",
        email_canonical="new@example.org",
        country="GB",
        status=Signature.Status.CONFIRMED,
    )
    before = petition.signatures.count()

    load()

    petition.refresh_from_db()
    assert petition.signatures.count() == before
    assert petition.signature_count == before


def test_loading_again_leaves_a_petition_staff_presented_as_it_was(db, tmp_path, settings):
    from django.utils import timezone

    from tests.conftest import on_commit_runs

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    load()
    petition = Petition.objects.get(slug="letter-to-president-xi")
    with on_commit_runs():
        presenting.present_petition(
            petition,
            presented_on=timezone.localdate(),
            place="Embassy",
            recipient="X",
            presented_by="Y",
        )
    before = Petition.objects.values().get(pk=petition.pk)

    load()

    assert Petition.objects.values().get(pk=petition.pk) == before
