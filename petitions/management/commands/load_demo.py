"""Load the demo campaigns: four real campaigns for North Korean refugees.

Their words are in petitions/management/demo/<language>.json, one file per language of the
site, each shaped like en.json (English is the original of every demo campaign).

Idempotent: every object is found by its slug (or natural key) and updated, so running it again
changes nothing but what the demo data itself changed. Demo signers use example.org addresses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from translated_fields import to_attribute

from accounts.models import Organisation
from campaigns.models import Campaign, Event, Resource, Story
from config.language import CODES
from petitions.models import Demand, Petition, Signature
from petitions.services import counting

DEMO = Path(__file__).resolve().parent.parent / "demo"


def demo_texts() -> dict[str, dict]:
    """The demo's words in each language: {code: the contents of demo/<code>.json}."""
    return {code: json.loads((DEMO / f"{code}.json").read_text("utf-8")) for code in CODES}


class Words:
    """One demo text in every language, as the columns of a translated field."""

    def __init__(self, texts: dict[str, dict]) -> None:
        self.texts = texts

    def __call__(self, name: str, *path: str | int) -> dict[str, str]:
        columns = {}
        for code, text in self.texts.items():
            for step in path:
                text = text[step]
            columns[to_attribute(name, code)] = text[name] if isinstance(text, dict) else text
        return columns


def recipient_language(target: str) -> str:
    """The language a demo petition's recipient reads: China's government, Chinese; North
    Korea's, Korean."""
    if "Democratic People's Republic of Korea" in target:
        return "ko"
    if "People's Republic of China" in target:
        return "zh-hans"
    return "en"


ORGANISATIONS = {
    "release-international": (
        "Release International",
        "UK charity serving persecuted Christians in about 30 countries.",
    ),
    "helping-hands-korea": (
        "Helping Hands Korea",
        "Seoul-based partner that runs safe houses along the 'underground railroad'.",
    ),
    "nk-freedom-coalition": (
        "North Korean Freedom Coalition",
        "Coalition that organises Save North Korean Refugees Day every year.",
    ),
    "csw": (
        "Christian Solidarity Worldwide",
        "UK human-rights group that writes to the Chinese government every year.",
    ),
    "icc": ("International Christian Concern", "US advocacy group."),
}

# Save North Korean Refugees Day 2018: 22 cities in 11 countries (city list illustrative).
EVENTS_2018 = [
    (
        "Washington D.C.",
        "US",
        "From CCTV's offices to the Embassy of China",
        "North Korean Freedom Coalition",
    ),
    ("New York", "US", "Consulate-General of China", ""),
    ("Los Angeles", "US", "Consulate-General of China", ""),
    ("San Francisco", "US", "Consulate-General of China", ""),
    ("Seoul", "KR", "Embassy of China", ""),
    ("Busan", "KR", "Consulate-General of China", ""),
    ("Gwangju", "KR", "Consulate-General of China", ""),
    ("Tokyo", "JP", "Embassy of China", ""),
    ("Osaka", "JP", "Consulate-General of China", ""),
    ("London", "GB", "Embassy of China", ""),
    ("Manchester", "GB", "Consulate-General of China", ""),
    ("Toronto", "CA", "Consulate-General of China", ""),
    ("Vancouver", "CA", "Consulate-General of China", ""),
    ("Sydney", "AU", "Consulate-General of China", ""),
    ("Melbourne", "AU", "Consulate-General of China", ""),
    ("Berlin", "DE", "Embassy of China", ""),
    ("Frankfurt", "DE", "Consulate-General of China", ""),
    ("Paris", "FR", "Embassy of China", ""),
    ("The Hague", "NL", "Embassy of China", ""),
    ("Brussels", "BE", "Embassy of China", ""),
    ("Wellington", "NZ", "Embassy of China", ""),
    ("Auckland", "NZ", "Consulate-General of China", ""),
]

# Demo signers: names in the scripts supporters sign with.
DEMO_SIGNERS = [
    ("Sarah Thompson", "London", "GB"),
    ("김민준", "서울", "KR"),
    ("이서연", "부산", "KR"),
    ("王小明", "台北", "TW"),
    ("山田 花子", "東京", "JP"),
    ("Иван Петров", "Москва", "RU"),
    ("فاطمة الزهراء", "عمّان", "JO"),
    ("David Kim", "Los Angeles", "US"),
    ("Zoë Müller", "Zürich", "CH"),
    ("Nguyễn Thị Lan", "Hà Nội", "VN"),
    ("Γιώργος Παπαδόπουλος", "Αθήνα", "GR"),
    ("יעל כהן", "ירושלים", "IL"),
    ("Amélie Dubois", "Lyon", "FR"),
    ("박지훈", "Toronto", "CA"),
    ("Chinedu Okafor", "Lagos", "NG"),
    ("María José García", "Madrid", "ES"),
]


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Command(BaseCommand):
    help = "Load (or refresh) the demo campaigns, petitions and a few demo signatures."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        words = Words(demo_texts())
        orgs = {
            slug: Organisation.objects.update_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )[0]
            for slug, (name, description) in ORGANISATIONS.items()
        }

        run = self._campaign(
            words,
            "run-for-your-life",
            orgs["release-international"],
            Campaign.Status.LIVE,
            _utc(2008, 8, 1).date(),
        )
        for position, english in enumerate(words.texts["en"]["stories"]):
            Story.objects.update_or_create(
                campaign=run,
                title_en=english["title"],
                defaults={
                    **words("title", "stories", position),
                    **words("pseudonym", "stories", position),
                    **words("body", "stories", position),
                    "position": position,
                },
            )
        Resource.objects.update_or_create(
            campaign=run,
            title_en=words.texts["en"]["resources"][0]["title"],
            defaults={
                **words("title", "resources", 0),
                **words("description", "resources", 0),
                "url": "https://www.unhcr.org/about-unhcr/who-we-are/1951-refugee-convention",
            },
        )
        run_petition = self._petition(
            words,
            run,
            "safe-passage-for-north-korean-refugees",
            50_000,
            Petition.Status.OPEN,
            _utc(2008, 8, 8, 12),
            None,
        )

        march = self._campaign(
            words,
            "funeral-march-for-freedom",
            orgs["release-international"],
            Campaign.Status.ENDED,
            _utc(2012, 1, 10).date(),
            _utc(2012, 4, 15).date(),
        )
        self._petition(
            words,
            march,
            "end-the-persecution-of-christians",
            50_000,
            Petition.Status.CLOSED,
            _utc(2012, 1, 10, 9),
            _utc(2012, 4, 1, 23, 59),
        )

        day = self._campaign(
            words,
            "save-north-korean-refugees-day",
            orgs["nk-freedom-coalition"],
            Campaign.Status.LIVE,
            _utc(2018, 9, 24).date(),
        )
        for city, country, venue, organiser in EVENTS_2018:
            Event.objects.update_or_create(
                campaign=day,
                city_en=city,
                country=country,
                defaults={
                    **words("city", "cities", city),
                    **words("venue", "venues", venue),
                    **words("description", "event_description"),
                    "organiser": organiser,
                    "starts_at": _utc(2018, 9, 24, 12),
                },
            )
        day_petition = self._petition(
            words,
            day,
            "letter-to-president-xi",
            10_000,
            Petition.Status.OPEN,
            _utc(2018, 9, 1, 9),
            None,
        )

        urgent = self._campaign(
            words,
            "the-ten-detained-in-shenyang",
            orgs["csw"],
            Campaign.Status.LIVE,
            _utc(2017, 11, 6).date(),
        )
        # An urgent action runs for two weeks from when it is first loaded.
        first_load = not Petition.objects.filter(slug="free-the-shenyang-ten").exists()
        urgent_petition = self._petition(
            words,
            urgent,
            "free-the-shenyang-ten",
            5_000,
            Petition.Status.OPEN,
            _utc(2017, 11, 6, 9),
            timezone.now() + timedelta(days=14) if first_load else None,
        )

        for petition in (run_petition, day_petition, urgent_petition):
            if petition.status not in Petition.SEALED_STATUSES:
                self._demo_signatures(petition)
        self.stdout.write(
            f"Demo data loaded: {Campaign.objects.count()} campaigns, "
            f"{Petition.objects.count()} petitions."
        )

    def _campaign(self, words, slug, organisation, status, starts_on, ends_on=None) -> Campaign:
        return Campaign.objects.update_or_create(
            slug=slug,
            defaults={
                "organisation": organisation,
                "language": "en",
                **words("title", "campaigns", slug),
                **words("tagline", "campaigns", slug),
                **words("description", "campaigns", slug),
                "status": status,
                "starts_on": starts_on,
                "ends_on": ends_on,
            },
        )[0]

    def _petition(self, words, campaign, slug, goal, status, opens_at, closes_at) -> Petition:
        defaults = {
            "campaign": campaign,
            "language": "en",
            **words("title", "petitions", slug),
            **words("target", "petitions", slug),
            **words("statement", "petitions", slug),
            "recipient_language": recipient_language(
                words.texts["en"]["petitions"][slug]["target"]
            ),
            "goal": goal,
            "status": status,
            "opens_at": opens_at,
        }
        if closes_at is not None:
            defaults["closes_at"] = closes_at
        presented = Petition.objects.sealed().filter(slug=slug).first()
        if presented is not None:  # staff presented it: it stays as it was handed over
            return presented
        petition = Petition.objects.update_or_create(slug=slug, defaults=defaults)[0]
        demands = words.texts["en"]["petitions"][slug]["demands"]
        for position in range(len(demands)):
            Demand.objects.update_or_create(
                petition=petition,
                position=position + 1,
                defaults=words("text", "petitions", slug, "demands", position),
            )
        petition.demands.filter(position__gt=len(demands)).delete()
        return petition

    def _demo_signatures(self, petition: Petition) -> None:
        start = petition.opens_at or timezone.now()
        for n, (name, city, country) in enumerate(DEMO_SIGNERS):
            email = f"demo-signer-{n}@example.org"
            when = start + timedelta(hours=n * 7)
            Signature.objects.get_or_create(
                petition=petition,
                email_canonical=email,
                defaults={
                    "email": email,
                    "name": name,
                    "city": city,
                    "country": country,
                    "status": Signature.Status.CONFIRMED,
                    "created_at": when,
                    "consented_at": when,
                    "verified_at": when + timedelta(minutes=3),
                    "confirmations_sent": 1,
                    "last_confirmation_sent_at": when,
                },
            )
        counting.rebuild(petition)
