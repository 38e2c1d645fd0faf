"""Campaigns' and petitions' own words in each language (campaigns/translated.py): what a visitor
reads, what the JSON says, how staff write them, and what the document hands over."""

from __future__ import annotations

import re
import shutil

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.models import Campaign, Event, Resource, Story
from campaigns.translated import columns
from config.language import CODES, NAMES
from petitions.mail.confirmations import send_due_confirmations
from petitions.models import Demand, Petition, Signature
from tests.conftest import SIGN_DATA, make_petition, make_signature, on_commit_runs, post_form
from tests.petitions.test_documents import build, flat, pdf_text
from tests.test_languages import translated, url_in

NOTE = (
    "Not yet translated into %(language)s: shown in %(originals)s, the language it was written in."
)
KOREAN_TITLE = "난민에게 안전한 이동을 보장하십시오"
NOW = timezone.now()
KOREAN_DEMANDS = [
    "난민 지위를 인정하십시오.",
    "안전한 이동을 보장하십시오.",
    "강제송환을 멈추십시오.",
]


def note(language: str, original: str) -> str:
    """The note on a page in `language` whose content is shown in its `original`."""
    with translation.override(language):
        names = {code: str(name) for code, name in NAMES.items()}
        text = translated(NOTE, language) if language != "en" else NOTE
    return text % {"language": names[language], "originals": names[original]}


@pytest.fixture
def in_korean(petition) -> Petition:
    """The petition fixture with a Korean translation of its words and its demands."""
    petition.title_ko = KOREAN_TITLE
    petition.target_ko = "중화인민공화국 정부"
    petition.statement_ko = "북한 난민에게 안전한 이동을 보장해 주십시오."
    petition.save()
    for demand, text in zip(petition.demands.all(), KOREAN_DEMANDS, strict=True):
        demand.text_ko = text
        demand.save()
    return petition


def page(language: str, name: str, *args) -> str:
    response = Client().get(url_in(language, name, *args))
    assert response.status_code == 200
    return response.content.decode()


# What a visitor reads


def test_a_translated_petition_reads_in_the_visitors_language(in_korean):
    html = page("ko", "petitions:detail", in_korean.slug)

    assert f"<h1>{KOREAN_TITLE}</h1>" in html
    assert "북한 난민에게 안전한 이동을 보장해 주십시오." in html
    assert all(f"<li>{demand}</li>" in html for demand in KOREAN_DEMANDS)
    assert "Grant refugees safe passage" not in html.split("</nav>", 1)[1].split("<form", 1)[0]
    assert "untranslated" not in html
    assert f"<h1>{in_korean.title_en}</h1>" in page("en", "petitions:detail", in_korean.slug)


def test_an_untranslated_petition_reads_in_its_original_with_a_note(petition):
    html = page("ja", "petitions:detail", petition.slug)

    assert note("ja", "en") in html
    assert '<h1 lang="en">Grant refugees safe passage</h1>' in html  # for screen readers, fonts
    assert '<div class="statement" lang="en">' in html
    assert '<li lang="en">Grant them refugee status.</li>' in html
    assert translated("Sign this petition", "ja") in html  # the page itself is in Japanese


def test_a_half_translated_petition_reads_wholly_in_its_original(petition):
    petition.title_ko = KOREAN_TITLE  # its target and statement are not translated yet
    petition.save()
    for demand, text in zip(petition.demands.all(), KOREAN_DEMANDS, strict=True):
        demand.text_ko = text
        demand.save()

    html = page("ko", "petitions:detail", petition.slug)

    assert KOREAN_TITLE not in html
    assert '<h1 lang="en">Grant refugees safe passage</h1>' in html
    assert '<li lang="en">Grant them refugee status.</li>' in html  # its demands with it
    assert not any(demand in html for demand in KOREAN_DEMANDS)
    assert note("ko", "en") in html


def test_a_petition_written_in_korean_reads_in_korean_to_an_english_visitor(campaign):
    petition = make_petition(
        campaign,
        "written-in-korean",
        language="ko",
        title_en="",
        title_ko=KOREAN_TITLE,
        target_en="",
        target_ko="중화인민공화국 정부",
        statement_en="",
        statement_ko="안전한 이동을 보장해 주십시오.",
    )

    html = page("en", "petitions:detail", petition.slug)

    assert f'<h1 lang="ko">{KOREAN_TITLE}</h1>' in html
    assert "Not yet translated into English: shown in Korean, the language it was written in." in (
        html
    )


def test_the_campaign_page_marks_and_notes_what_is_not_translated(campaign, petition):
    campaign.title_ko = "목숨을 건 탈출"
    campaign.tagline_ko = "중국은 안전한 피난처가 아닙니다."
    campaign.save()
    Story.objects.create(
        campaign=campaign, title_en="Across the river", pseudonym_en="'Min-ji'", body_en="At night."
    )

    html = page("ko", "campaigns:detail", campaign.slug)

    assert "<h1>목숨을 건 탈출</h1>" in html  # the campaign is translated
    assert '<article class="mb-4" lang="en">' in html  # its story is not
    assert 'class="card h-100 petition-card" lang="en"' in html  # nor its petition
    assert note("ko", "en") in html
    assert note("ko", "en") not in page("en", "campaigns:detail", campaign.slug)


def test_the_home_page_marks_campaigns_in_their_original(campaign, petition):
    html = page("zh-hans", "campaigns:home")

    assert (
        f'<h2 lang="en"><a href="{url_in("zh-hans", "campaigns:detail", campaign.slug)}">' in html
    )
    assert note("zh-hans", "en") in html


def test_the_confirmation_email_names_the_petition_in_the_signers_language(in_korean, mailoutbox):
    with on_commit_runs():
        post_form(Client(), url_in("ko", "petitions:sign", in_korean.slug), SIGN_DATA)
    send_due_confirmations(in_worker=False)

    assert KOREAN_TITLE in mailoutbox[-1].subject
    assert "중화인민공화국 정부" in mailoutbox[-1].body


# The JSON


def test_the_json_lists_the_languages_a_petition_has(in_korean):
    url = reverse("petitions:detail_json", args=[in_korean.slug])

    korean = Client().get(url, {"lang": "ko"}).json()
    japanese = Client().get(url, {"lang": "ja"}).json()

    assert korean["languages"] == japanese["languages"] == ["en", "ko"]
    assert (korean["language"], korean["content_language"], korean["title"]) == (
        "ko",
        "ko",
        KOREAN_TITLE,
    )
    assert (japanese["language"], japanese["content_language"], japanese["title"]) == (
        "ja",
        "en",
        "Grant refugees safe passage",
    )


# How staff write them


def admin_page(client, user, petition) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:petitions_petition_change", args=[petition.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_staff_write_each_fields_versions_side_by_side(client, manager, petition):
    html = admin_page(client, manager, petition)

    for name in ["title", "target", "statement"]:
        row = " ".join(f"field-{column}" for column in columns(name))
        assert f'<div class="form-row {row}">' in html, name
    assert re.search(r'<input type="text" name="title_ko"[^>]*lang="ko"', html)
    assert re.search(r'<textarea name="statement_zh_hans"[^>]*lang="zh-hans"', html)
    assert re.search(r'<textarea name="demands-0-text_ja"[^>]*lang="ja"', html)  # the inline too


def petition_form(petition: Petition, **changes) -> dict:
    data = {
        "campaign": petition.campaign_id,
        "language": petition.language,
        "slug": petition.slug,
        "recipient_language": "en",
        "goal": 100,
        "goal_step": 0,
        "status": "open",
        "demands-TOTAL_FORMS": 0,
        "demands-INITIAL_FORMS": 0,
        "paper_batches-TOTAL_FORMS": 0,
        "paper_batches-INITIAL_FORMS": 0,
        "presentations-TOTAL_FORMS": 0,
        "presentations-INITIAL_FORMS": 0,
    }
    for column in columns(*Petition.TRANSLATED):
        data[column] = getattr(petition, column)
    return data | changes


def test_the_original_language_must_be_written(client, manager, petition):
    client.force_login(manager)
    url = reverse("admin:petitions_petition_change", args=[petition.pk])

    # Korean named as the original, with nothing written in Korean.
    response = client.post(url, petition_form(petition, language="ko"))

    assert response.status_code == 200
    assert "Write this in Korean, the original language." in response.content.decode()
    assert Petition.objects.get(pk=petition.pk).language == "en"


def test_the_shell_checks_the_original_language_too(petition):
    petition.language = "ja"
    with pytest.raises(ValidationError) as refused:
        petition.full_clean()
    assert set(refused.value.message_dict) == {"title_ja", "target_ja", "statement_ja"}

    demand = Demand(petition=petition, position=9, text_en="Only in English")
    with pytest.raises(ValidationError, match="original language"):
        demand.full_clean()


def test_a_story_takes_its_campaigns_original_language(campaign):
    campaign.language = "ko"
    story = Story(campaign=campaign, title_en="In English", pseudonym_en="'A'", body_en="Text.")

    with pytest.raises(ValidationError) as refused:
        story.full_clean()
    assert set(refused.value.message_dict) == {"title_ko", "pseudonym_ko", "body_ko"}


# The document handed over

needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")


@needs_pdftotext
def test_the_document_gives_the_petition_in_its_recipients_language_beside_the_original(
    petition, tmp_path
):
    make_signature(petition, "a@example.org", name="김민준", status=Signature.Status.CONFIRMED)
    petition.recipient_language = "zh-hans"
    petition.title_zh_hans = "给予难民安全通行"
    petition.target_zh_hans = "中华人民共和国政府"
    petition.statement_zh_hans = "给予朝鲜难民安全通行。"
    petition.save()
    chinese = ["给予他们难民身份。", "给予他们安全通行。", "停止强制遣返。"]
    for demand, text in zip(petition.demands.all(), chinese, strict=True):
        demand.text_zh_hans = text
        demand.save()

    text = flat(pdf_text(build(petition, tmp_path)[0]))

    order = [
        "给予难民安全通行",
        "Grant refugees safe passage",
        f"{translated('To:', 'zh-hans')} 中华人民共和国政府",
        "To: The Government of the People's Republic of China",
        "给予朝鲜难民安全通行。",
        "Grant North Korean refugees safe passage.",
        f"{translated('We ask:', 'zh-hans')} / We ask:",
        "1. 给予他们难民身份。",
        "1. Grant them refugee status.",
        "3. 停止强制遣返。",
        "3. Stop forcible repatriation.",
        "김민준",
    ]
    at = 0
    for words in order:  # each after the one before
        found = text.find(words, at)
        assert found != -1, f"{words!r} is not after {text[:at][-40:]!r}"
        at = found + len(words)


@needs_pdftotext
def test_a_document_for_a_recipient_without_a_translation_gives_the_original(petition, tmp_path):
    petition.recipient_language = "ja"
    petition.save()

    text = flat(pdf_text(build(petition, tmp_path)[0]))

    assert f"{translated('To:', 'ja')} / To: The Government" in text
    assert "Grant North Korean refugees safe passage." in text


# The demo


def test_the_demo_is_written_in_every_language(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    for model in (Campaign, Petition, Demand, Story, Event, Resource):
        for content in model.objects.all():
            assert content.languages == CODES, (model.__name__, content.pk)


def test_the_campaigns_admin_page_reads_its_rows_languages_without_a_query_each(
    client, manager, campaign
):
    client.force_login(manager)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add_rows(n: int) -> None:
        for i in range(n):
            Story.objects.create(
                campaign=campaign, title_en=f"S{i}", pseudonym_en="'A'", body_en="."
            )
            Event.objects.create(campaign=campaign, city_en=f"C{i}", country="KR", starts_at=NOW)
            Resource.objects.create(campaign=campaign, title_en=f"R{i}", url="https://example.org")

    add_rows(1)
    queries()  # the first view of the page caches what every later one reads
    one_each = queries()
    add_rows(10)

    assert queries() == one_each


def test_a_petition_is_added_from_its_campaigns_page_on_its_own_page(client, manager, campaign):
    client.force_login(manager)
    campaign_page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    add_url = f"{reverse('admin:petitions_petition_add')}?campaign={campaign.pk}"

    assert f'href="{add_url}"' in campaign_page.content.decode()
    assert 'name="petitions-TOTAL_FORMS"' in campaign_page.content.decode()  # rows listed
    add_page = client.get(add_url).content.decode()
    assert f'<option value="{campaign.pk}" selected>' in add_page


@needs_pdftotext
def test_a_campaign_written_in_another_language_than_its_petition_keeps_its_own_original(
    petition, tmp_path
):
    campaign = petition.campaign
    Campaign.objects.filter(pk=campaign.pk).update(
        language="ko", title_en="", title_ko="목숨을 건 탈출"
    )
    petition.recipient_language = "zh-hans"
    petition.save()

    text = flat(pdf_text(build(petition, tmp_path)[0]))

    assert "목숨을 건 탈출" in text  # the campaign's own original, not its empty English
