"""The site in English, Korean, Simplified Chinese and Japanese: the language in the URL, chosen
on a first visit from the browser, switchable on every page; emails in the signer's language;
the JSON API in the language asked; and translation catalogues with nothing left out."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.audit import record
from accounts.models import AuditEvent
from petitions.mail.confirmations import send_due_confirmations
from petitions.models import Signature, SigningLimit
from tests.conftest import SIGN_DATA, make_signature, on_commit_runs, post_form
from tests.petitions.test_documents import build, flat, pdf_text

LOCALE = Path(settings.BASE_DIR) / "locale"
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))
KOREAN = "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"


def translated(text: str, language: str) -> str:
    """text in language, from the catalogue; a string left in English fails the test."""
    with translation.override(language):
        result = gettext(text)
    assert result != text, f"{text!r} is not translated into {language}"
    return result


def url_in(language: str, name: str, *args) -> str:
    with translation.override(language):
        return reverse(name, args=args)


# The language in the URL


@pytest.mark.parametrize("language", ["ko", "zh-hans", "ja"])
def test_each_language_has_its_pages_under_its_code(petition, language):
    page = Client().get(f"/{language}/petitions/{petition.slug}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert f'<html lang="{language}">' in html
    assert translated("Add your name", language) in html
    assert translated("Sign this petition", language) in html
    assert f'action="/{language}/petitions/{petition.slug}/sign/"' in html


def test_english_pages_keep_their_urls_and_each_language_has_its_own_copy(petition):
    english = Client().get(f"/petitions/{petition.slug}/").content.decode()
    korean = Client().get(f"/ko/petitions/{petition.slug}/").content.decode()
    english_again = Client().get(f"/petitions/{petition.slug}/").content.decode()

    assert '<html lang="en">' in english and "Add your name" in english
    assert translated("Add your name", "ko") in korean and "Add your name" not in korean
    assert english_again == english  # the process's copy of the Korean page is not served here


def test_every_page_links_its_versions_in_every_language(petition):
    html = Client().get(f"/ja/petitions/{petition.slug}/").content.decode()

    site = settings.SITE_URL
    for code, path in [
        ("en", f"/petitions/{petition.slug}/"),
        ("ko", f"/ko/petitions/{petition.slug}/"),
        ("zh-hans", f"/zh-hans/petitions/{petition.slug}/"),
        ("ja", f"/ja/petitions/{petition.slug}/"),
        ("x-default", f"/petitions/{petition.slug}/"),
    ]:
        assert f'<link rel="alternate" hreflang="{code}" href="{site}{path}">' in html
    # The switcher: each language named in itself, marked with its language; this one current.
    for code, name in settings.LANGUAGES:
        assert re.search(rf'<a href="/language/{code}/\?next=[^"]+" hreflang="{code}" '
                         rf'lang="{code}"[^>]*>{name}</a>', html)  # fmt: skip
    assert re.search(r'lang="ja" aria-current="true"[^>]*>日本語</a>', html)


# Chosen on a first visit, switchable on every page


def test_a_first_visit_goes_to_the_page_in_the_browsers_language(petition):
    page = Client().get(f"/petitions/{petition.slug}/?ref=share", HTTP_ACCEPT_LANGUAGE=KOREAN)

    assert page.status_code == 302
    assert page["Location"] == f"/ko/petitions/{petition.slug}/?ref=share"
    assert {"Accept-Language", "Cookie"} <= set(re.split(r",\s*", page["Vary"]))


@pytest.mark.parametrize(
    "accept",
    ["", "en-GB,en;q=0.9", "fr-FR,fr;q=0.9", "de;q=0.9,en;q=0.8,ko;q=0.1", "*"],
)
def test_a_browser_that_prefers_english_or_an_unknown_language_stays_in_english(petition, accept):
    page = Client().get(f"/petitions/{petition.slug}/", HTTP_ACCEPT_LANGUAGE=accept)

    assert page.status_code == 200
    assert '<html lang="en">' in page.content.decode()


@pytest.mark.parametrize(
    ("accept", "language"),
    [("zh-CN,zh;q=0.9", "zh-hans"), ("zh-Hans", "zh-hans"), ("ja-JP", "ja"), ("ko", "ko")],
)
def test_browser_language_variants_find_the_sites_language(petition, accept, language):
    page = Client().get("/", HTTP_ACCEPT_LANGUAGE=accept)

    assert page["Location"] == f"/{language}/"


def test_machine_answers_forms_and_staff_pages_are_never_redirected(petition, admin_client):
    client = Client()
    korean = {"HTTP_ACCEPT_LANGUAGE": KOREAN}

    assert client.get(f"/petitions/{petition.slug}.json", **korean).status_code == 200
    assert client.get(f"/petitions/{petition.slug}/count.json", **korean).status_code == 200
    assert client.get("/admin/login/", **korean).status_code == 200
    signed = post_form(client, f"/petitions/{petition.slug}/sign/", SIGN_DATA, **korean)
    assert signed["Location"] == f"/petitions/{petition.slug}/signed/"  # signed in English
    assert Signature.objects.get().language == "en"


def test_the_switcher_shows_the_same_page_in_the_language_chosen_and_remembers_it(petition):
    client = Client(HTTP_ACCEPT_LANGUAGE=KOREAN)
    here = f"/petitions/{petition.slug}/"

    to_english = client.get("/language/en/", {"next": f"/ko{here}"})
    assert to_english.status_code == 302 and to_english["Location"] == here
    assert to_english.cookies["language"].value == "en"
    assert to_english.cookies["language"]["httponly"]
    # The English page now stays English for this Korean browser.
    assert client.get(here).status_code == 200

    to_japanese = client.get("/language/ja/", {"next": here})
    assert to_japanese["Location"] == f"/ja{here}"
    # And an English link shared with them leads to the Japanese page.
    assert client.get(here)["Location"] == f"/ja{here}"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "/\\evil.example", ""],
)
def test_the_switcher_never_leads_off_the_site(next_url):
    response = Client().get("/language/ko/", {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/ko/"


@pytest.mark.parametrize("code", ["fr", "KO", "zh", "ko-kr", "x" * 600])
def test_the_switcher_refuses_a_language_the_site_does_not_have(code):
    response = Client().get(f"/language/{code}/", {"next": "/"})

    assert response.status_code == 404
    assert "language" not in response.cookies


# Emails in the signer's language


def test_a_signature_made_in_korean_is_mailed_in_korean_with_korean_links(petition, mailoutbox):
    client = Client()
    with on_commit_runs():
        response = post_form(client, url_in("ko", "petitions:sign", petition.slug), SIGN_DATA)
    send_due_confirmations(in_worker=False)

    assert response["Location"] == f"/ko/petitions/{petition.slug}/signed/"
    signature = Signature.objects.get()
    assert signature.language == "ko"
    message = mailoutbox[-1]
    with translation.override("ko"):
        subject = gettext("Please confirm your signature: %(title)s") % {"title": petition.title}
    assert message.subject == subject
    html = message.alternatives[0][0]
    assert '<html lang="ko">' in html
    assert translated("Confirm my signature", "ko") in html
    link = re.search(r"http://\S+/ko/confirm/[0-9a-f-]+/\S+/", message.body).group(0)
    confirm_page = client.get(link.removeprefix(settings.SITE_URL))
    assert translated("Confirm your signature", "ko") in confirm_page.content.decode()


def test_signing_again_in_another_language_is_answered_in_the_first_one(petition, mailoutbox):
    client = Client()
    with on_commit_runs():
        post_form(client, url_in("ja", "petitions:sign", petition.slug), SIGN_DATA)
    send_due_confirmations(in_worker=False)
    Signature.objects.update(status=Signature.Status.CONFIRMED)
    with on_commit_runs():
        post_form(client, url_in("en", "petitions:sign", petition.slug), SIGN_DATA)
    send_due_confirmations(in_worker=False)

    assert Signature.objects.get().language == "ja"
    with translation.override("ja"):
        subject = gettext("You have already signed: %(title)s") % {"title": petition.title}
    assert mailoutbox[-1].subject == subject
    assert f"/ja/petitions/{petition.slug}/" in mailoutbox[-1].body


def test_form_errors_are_in_the_pages_language(petition):
    response = post_form(
        Client(), url_in("zh-hans", "petitions:sign", petition.slug), {**SIGN_DATA, "name": "123"}
    )

    assert response.status_code == 400
    assert translated("Please enter your name.", "zh-hans") in response.content.decode()
    assert not Signature.objects.exists()


# The JSON API


@pytest.mark.parametrize(
    ("query", "headers", "language"),
    [
        ({"lang": "ko"}, {}, "ko"),
        ({}, {"HTTP_ACCEPT_LANGUAGE": "ja-JP,ja;q=0.9"}, "ja"),
        ({"lang": "zh-hans"}, {"HTTP_ACCEPT_LANGUAGE": "ja"}, "zh-hans"),
        ({}, {}, "en"),
    ],
)
def test_the_json_answers_in_the_language_asked(petition, query, headers, language):
    data = Client().get(f"/petitions/{petition.slug}.json", query, **headers).json()

    assert data["language"] == language
    prefix = "" if language == "en" else f"/{language}"
    assert data["url"] == f"http://testserver{prefix}/petitions/{petition.slug}/"


def test_the_jsons_errors_are_in_the_language_asked(petition):
    response = Client().get("/petitions.json", {"page": "0", "lang": "ko"})

    assert response.status_code == 400
    with translation.override("ko"):
        expected = gettext("%(name)s must be a whole number from 1 to %(maximum)d")
    assert response.json()["error"] == expected % {"name": "page", "maximum": 10**6}
    assert "Accept-Language" in response["Vary"]


def test_a_language_the_site_does_not_have_is_refused_clearly(petition):
    response = Client().get(f"/petitions/{petition.slug}/count.json", {"lang": "fr"})

    assert response.status_code == 400
    assert response.json() == {"error": "lang must be one of en, ko, zh-hans, ja"}


# The catalogues


@pytest.mark.skipif(
    not shutil.which("msgfmt"), reason="needs GNU gettext (apt-get install gettext)"
)
@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.parent.parent.name)
def test_each_catalogue_is_complete(catalogue):
    statistics = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(catalogue)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr

    assert re.fullmatch(r"\d+ translated messages\.\n", statistics), statistics


def test_there_is_a_catalogue_for_every_language_but_english():
    names = {path.parent.parent.name for path in CATALOGUES}

    assert names == {translation.to_locale(code) for code, _ in settings.LANGUAGES} - {"en"}


@pytest.mark.skipif(
    not shutil.which("xgettext"), reason="needs GNU gettext (apt-get install gettext)"
)
def test_every_string_in_the_code_and_templates_is_in_every_catalogue(
    tmp_path, settings, monkeypatch
):
    """What `make messages` would find today, against what the catalogues hold: a string
    marked for translation since the catalogues were last merged fails here. makemessages reads
    the folders linked into a scratch folder and writes there, never into locale/."""
    root = Path(settings.BASE_DIR)
    for folder in ["accounts", "campaigns", "config", "petitions", "templates"]:
        (tmp_path / folder).symlink_to(root / folder)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["ko"], symlinks=True, verbosity=0)
    fresh = tmp_path / "locale/ko/LC_MESSAGES/django.po"
    for catalogue in CATALOGUES:
        # msgcmp: every msgid of fresh must be in the catalogue, translated and not fuzzy.
        compared = subprocess.run(
            ["msgcmp", str(catalogue), str(fresh)], capture_output=True, text=True
        )
        assert compared.returncode == 0, compared.stderr


# The staff's admin


def test_the_admin_is_in_the_staff_members_language(client, manager, campaign, petition):
    client.force_login(manager)
    dashboard = reverse("admin:campaigns_campaign_dashboard", args=[campaign.pk])

    page = client.get(dashboard, HTTP_ACCEPT_LANGUAGE=KOREAN).content.decode()

    assert '<html lang="ko"' in page
    assert translated("Latest signatures", "ko") in page
    assert translated("Confirmation rate", "ko") in page
    with translation.override("ko"):
        assert (
            str(Signature._meta.verbose_name_plural)
            in client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=KOREAN).content.decode()
        )


def test_the_admins_switcher_keeps_the_admin_page_and_the_choice(client, manager, campaign):
    client.force_login(manager)
    dashboard = reverse("admin:campaigns_campaign_dashboard", args=[campaign.pk])

    chosen = client.get("/language/en/", {"next": dashboard}, HTTP_ACCEPT_LANGUAGE=KOREAN)
    page = client.get(dashboard, HTTP_ACCEPT_LANGUAGE=KOREAN).content.decode()

    assert chosen["Location"] == dashboard
    assert '<html lang="en"' in page and "Latest signatures" in page
    assert re.search(r'<a href="/language/ja/\?next=[^"]+" lang="ja">日本語</a>', page)


def test_the_audit_log_is_written_in_the_sites_language_whatever_the_admins(superuser):
    limit = SigningLimit(scope=SigningLimit.Scope.ADDRESS, limit=5, window_minutes=10)
    with translation.override("ko"):
        shown_in_korean = str(limit)
        record(superuser, "signing limit changed", None, limit)

    event = AuditEvent.objects.get()
    with translation.override("en"):
        assert event.target == str(limit)
    assert event.target != shown_in_korean


# The delivered document and the paper sheet

needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")


@needs_pdftotext
def test_a_document_for_chinas_embassy_gives_its_headings_in_chinese_beside_english(
    petition, tmp_path
):
    make_signature(petition, "a@example.org", name="김민준", status=Signature.Status.CONFIRMED)
    make_signature(petition, "b@example.org", name="王小明", status=Signature.Status.CONFIRMED)
    petition.recipient_language = "zh-hans"
    petition.save()

    text = flat(pdf_text(build(petition, tmp_path)[0]))

    for heading in ["We ask:", "Total signatures", "Signatures by country", "Signatures"]:
        chinese = translated(heading, "zh-hans")
        assert f"{chinese} / {heading}" in text, heading
    assert "Grant North Korean refugees safe passage." in text  # the statement, as written
    assert "김민준" in text and "王小明" in text  # names as the signers wrote them


def test_the_document_is_the_same_whatever_language_the_staff_read(petition, tmp_path):
    petition.recipient_language = "ja"
    petition.save()

    with translation.override("ko"):
        from_korean_admin, _, _ = build(petition, tmp_path, "ko.pdf")
    from_english_admin, _, _ = build(petition, tmp_path, "en.pdf")

    assert from_korean_admin.read_bytes() == from_english_admin.read_bytes()


@needs_pdftotext
def test_a_document_for_an_english_reader_has_english_alone(petition, tmp_path):
    text = flat(pdf_text(build(petition, tmp_path)[0]))

    assert "We ask:" in text and "Total signatures" in text
    assert translated("We ask:", "zh-hans") not in text
    assert translated("Total signatures", "zh-hans") not in text


@needs_pdftotext
def test_the_paper_sheet_is_in_the_language_of_its_page(client, petition, tmp_path):
    sheets = {}
    for language in ["en", "ko"]:
        response = client.get(url_in(language, "petitions:paper_sheet", petition.slug))
        sheet = tmp_path / f"{language}.pdf"
        sheet.write_bytes(response.content)
        sheets[language] = pdf_text(sheet)

    assert "Town or city" in sheets["en"]
    assert translated("Town or city", "ko") in sheets["ko"]
    assert "Town or city" not in sheets["ko"]
