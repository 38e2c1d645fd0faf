"""Load the demo campaigns: four real campaigns for North Korean refugees.

Idempotent: every object is found by its slug (or natural key) and updated, so running it again
changes nothing but what the demo data itself changed. Demo signers use example.org addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation
from campaigns.models import Campaign, Event, Resource, Story
from petitions.models import Demand, Petition, Signature
from petitions.services import counting

CHINA = "The Government of the People's Republic of China"


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

RUN_FOR_YOUR_LIFE = """While the world watches the Olympic Games in Beijing, men, women and children who escape North Korea are hunted in China.

China is no safe haven. Escapees face traffickers, informers and the police. Those caught are sent back to interrogation, prison camps, or death. At least 500,000 North Koreans have crossed into China in ten years, and China returns about 4,000 a year.

The UN Special Rapporteur calls them refugees. China calls them economic migrants. South Korea treats them as its own citizens. We ask China to honour the 1951 UN Refugee Convention it has signed."""

FUNERAL_MARCH = """After the death of Kim Jong Il in December 2011, security on the border with China was tightened, and a crackdown was feared before 15 April 2012, the hundredth anniversary of Kim Il Sung's birth.

Supporters marched to the North Korean embassy in London to hand over this petition, asking the new leader to end the persecution of Christians. The same campaign called on China to end its policy of sending refugees back, children included."""

SAVE_REFUGEES_DAY = """Every year on Save North Korean Refugees Day, people gather outside Chinese embassies and consulates to ask China to stop sending North Korean refugees back.

On 24 September 2018, protests were held in 22 cities across 11 countries. In Washington D.C. marchers walked from CCTV's offices to the Chinese embassy to deliver a letter to President Xi Jinping, and participants read aloud the names of North Koreans known to have been sent back."""

SHENYANG = """On 4 November 2017 police raided a safe house in Shenyang, Liaoning province, and detained ten North Koreans: seven women and three men, from a small child to people in their sixties.

If they are sent back they face interrogation and prison camps. Their relatives in South Korea, and the South Korean embassy, have appealed for them. Every day counts: add your name now."""

STORIES = [
    (
        "Across the river in winter",
        "'Min-ji' (not her real name)",
        "She crossed the frozen Tumen river at night, after her family had gone weeks without "
        "food.\n\nIn China a broker sold her to a farmer. When she ran, the police were looking "
        "for her. A safe house hid her until she could travel on.",
    ),
    (
        "Sent back twice",
        "'Chul-soo' (not his real name)",
        "He was caught and returned twice, and each time was interrogated and held in a labour "
        "camp.\n\nThe third time he reached a safe house, and from there a third country.",
    ),
    (
        "A mother's search",
        "'Young-hee' (not her real name)",
        "She left to find food for her children and could not go home: leaving without "
        "permission is a crime.\n\nShe lived hidden for years, afraid of every knock at the door, "
        "until she was given safe passage.",
    ),
]

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
        orgs = {
            slug: Organisation.objects.update_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )[0]
            for slug, (name, description) in ORGANISATIONS.items()
        }

        run = self._campaign(
            "run-for-your-life",
            orgs["release-international"],
            "Run for your Life",
            "China is no safe haven for North Korean refugees.",
            RUN_FOR_YOUR_LIFE,
            Campaign.Status.LIVE,
            _utc(2008, 8, 1).date(),
        )
        for position, (title, pseudonym, body) in enumerate(STORIES):
            Story.objects.update_or_create(
                campaign=run,
                title=title,
                defaults={"pseudonym": pseudonym, "body": body, "position": position},
            )
        Resource.objects.update_or_create(
            campaign=run,
            title="The 1951 UN Refugee Convention",
            defaults={
                "url": "https://www.unhcr.org/about-unhcr/who-we-are/1951-refugee-convention",
                "description": "The treaty China has signed, and the basis of our demands.",
            },
        )
        run_petition = self._petition(
            run,
            "safe-passage-for-north-korean-refugees",
            "Grant North Korean refugees safe passage",
            CHINA,
            "We call on the Government of the People's Republic of China to treat the North "
            "Koreans who escape into China as the refugees they are.",
            50_000,
            Petition.Status.OPEN,
            _utc(2008, 8, 8, 12),
            None,
            [
                "Act with compassion towards the men, women and children escaping the regime by "
                "granting them refugee status.",
                "Give them safe passage to third countries.",
                "Stop the forcible repatriation of North Koreans immediately.",
            ],
        )

        march = self._campaign(
            "funeral-march-for-freedom",
            orgs["release-international"],
            "Funeral march for freedom",
            "A march to the North Korean embassy in London.",
            FUNERAL_MARCH,
            Campaign.Status.ENDED,
            _utc(2012, 1, 10).date(),
            _utc(2012, 4, 15).date(),
        )
        self._petition(
            march,
            "end-the-persecution-of-christians",
            "End the persecution of Christians in North Korea",
            "Kim Jong-un, Supreme Leader of the Democratic People's Republic of Korea",
            "We ask the new leader of North Korea to end the persecution of Christians, and we "
            "ask China to stop sending refugees back to face it.",
            50_000,
            Petition.Status.CLOSED,
            _utc(2012, 1, 10, 9),
            _utc(2012, 4, 1, 23, 59),
            [
                "End the persecution of Christians in North Korea.",
                "Release those imprisoned for their faith.",
                "China: end the repatriation of refugees, children included.",
            ],
        )

        day = self._campaign(
            "save-north-korean-refugees-day",
            orgs["nk-freedom-coalition"],
            "Save North Korean Refugees Day",
            "One day of action at Chinese embassies and consulates in 22 cities.",
            SAVE_REFUGEES_DAY,
            Campaign.Status.LIVE,
            _utc(2018, 9, 24).date(),
        )
        for city, country, venue, organiser in EVENTS_2018:
            Event.objects.update_or_create(
                campaign=day,
                city=city,
                country=country,
                defaults={
                    "venue": venue,
                    "organiser": organiser,
                    "starts_at": _utc(2018, 9, 24, 12),
                    "description": "Protest and delivery of the letter to President Xi Jinping.",
                },
            )
        day_petition = self._petition(
            day,
            "letter-to-president-xi",
            "Letter to President Xi Jinping: end repatriation",
            "President Xi Jinping, People's Republic of China",
            "Dear President Xi, we ask you to end the forced repatriation of North Korean "
            "refugees. We read aloud the names of those already sent back, so they are not "
            "forgotten.",
            10_000,
            Petition.Status.OPEN,
            _utc(2018, 9, 1, 9),
            None,
            [
                "End the forced repatriation of North Korean refugees.",
                "Let the UN High Commissioner for Refugees reach North Koreans in China.",
                "Allow safe passage to South Korea or a third country.",
            ],
        )

        urgent = self._campaign(
            "the-ten-detained-in-shenyang",
            orgs["csw"],
            "Urgent appeal: the ten detained in Shenyang",
            "Ten North Koreans face forced return. Act now.",
            SHENYANG,
            Campaign.Status.LIVE,
            _utc(2017, 11, 6).date(),
        )
        # An urgent action runs for two weeks from when it is first loaded.
        first_load = not Petition.objects.filter(slug="free-the-shenyang-ten").exists()
        urgent_petition = self._petition(
            urgent,
            "free-the-shenyang-ten",
            "Safe passage for the ten detained in Shenyang",
            CHINA + ", through its embassy",
            "Ten North Koreans detained in Shenyang on 4 November 2017 face being sent back. "
            "We ask China not to return them.",
            5_000,
            Petition.Status.OPEN,
            _utc(2017, 11, 6, 9),
            timezone.now() + timedelta(days=14) if first_load else None,
            [
                "Do not send the ten detained in Shenyang back to North Korea.",
                "Allow them safe passage to South Korea or a third country.",
            ],
        )

        for petition in (run_petition, day_petition, urgent_petition):
            if petition.status not in Petition.SEALED_STATUSES:
                self._demo_signatures(petition)
        self.stdout.write(
            f"Demo data loaded: {Campaign.objects.count()} campaigns, "
            f"{Petition.objects.count()} petitions."
        )

    def _campaign(
        self, slug, organisation, title, tagline, description, status, starts_on, ends_on=None
    ) -> Campaign:
        return Campaign.objects.update_or_create(
            slug=slug,
            defaults={
                "organisation": organisation,
                "title": title,
                "tagline": tagline,
                "description": description,
                "status": status,
                "starts_on": starts_on,
                "ends_on": ends_on,
            },
        )[0]

    def _petition(
        self, campaign, slug, title, target, statement, goal, status, opens_at, closes_at, demands
    ) -> Petition:
        defaults = {
            "campaign": campaign,
            "title": title,
            "target": target,
            "recipient_language": recipient_language(target),
            "statement": statement,
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
        for position, text in enumerate(demands, start=1):
            Demand.objects.update_or_create(
                petition=petition, position=position, defaults={"text": text}
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
