"""What a presentation sealed stays as it was, and no form writes the kept counts, whatever path
edits a petition: its own change form, the campaign's petition inline, the shell, a bulk action."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save
from django.urls import reverse
from django.utils import timezone

from petitions.models import Demand, PaperBatch, Petition, Presentation, SealedPetition, Signature
from petitions.services import counting, moderation, paper, presenting, signing
from tests.conftest import a_moment_later, make_signature, on_commit_runs
from tests.petitions.test_paper_batches import FormFields

pytestmark = pytest.mark.usefixtures("private_media")


def campaign_form(client, campaign) -> dict[str, str]:
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.content.decode())
    return parser.data


def petition_row(data: dict[str, str], petition: Petition) -> str:
    """The campaign form's prefix of the petition's inline row, e.g. "petitions-0"."""
    for key, value in data.items():
        if key.startswith("petitions-") and key.endswith("-id") and value == str(petition.pk):
            return key.removesuffix("-id")
    raise AssertionError(f"no inline row for {petition}")


@pytest.fixture
def confirmed_twice(petition) -> Petition:
    for n in range(2):
        make_signature(petition, f"s{n}@example.org", status=Signature.Status.CONFIRMED,
                       verified_at=datetime(2025, 3, 1, 12, n, tzinfo=UTC))  # fmt: skip
    counting.rebuild(petition)
    petition.refresh_from_db()
    return petition


@pytest.fixture
def presented(confirmed_twice, owner) -> Presentation:
    Petition.objects.filter(pk=confirmed_twice.pk).update(
        opens_at=datetime(2025, 2, 1, tzinfo=UTC), closes_at=datetime(2025, 6, 1, tzinfo=UTC)
    )
    with on_commit_runs():
        presentation = presenting.present_petition(
            confirmed_twice,
            presented_on=date(2025, 6, 20),
            place="the Chinese Embassy, London",
            recipient="the Ambassador",
            presented_by="Olivia Owen",
            user=owner,
        )
    presentation.refresh_from_db()
    return presentation


# No form writes the kept counts -----------------------------------------------------------------


def test_a_new_goal_from_the_campaign_inline_keeps_a_confirmation_counted_meanwhile(
    client, owner, campaign, confirmed_twice
):
    pending = make_signature(confirmed_twice, "late@example.org")
    client.force_login(owner)
    data = campaign_form(client, campaign)
    data[petition_row(data, confirmed_twice) + "-goal"] = "12345"

    def confirm_meanwhile(sender, instance, **kwargs):
        pre_save.disconnect(confirm_meanwhile, sender=Petition)
        assert signing.confirm(pending) == signing.Confirmation.CONFIRMED

    pre_save.connect(confirm_meanwhile, sender=Petition)
    try:
        response = client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)
    finally:
        pre_save.disconnect(confirm_meanwhile, sender=Petition)

    assert response.status_code == 302
    a_moment_later()
    confirmed_twice.refresh_from_db()
    assert confirmed_twice.goal == 12345
    assert confirmed_twice.signature_count == 3


def test_a_save_from_the_shell_never_writes_the_kept_counts(confirmed_twice):
    stale = Petition.objects.get(pk=confirmed_twice.pk)
    Petition.objects.filter(pk=stale.pk).update(signature_count=5, paper_count=7)

    stale.title = "Renamed in the shell"
    stale.signature_count = 0
    stale.save()
    stale.save(update_fields=["signature_count", "paper_count"])

    assert Petition.objects.values_list("title_en", "signature_count", "paper_count").get(
        pk=stale.pk
    ) == ("Renamed in the shell", 5, 7)


# A presented petition is frozen whatever edits it ------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("title", "Changed"),
        ("slug", "changed"),
        ("status", "open"),
        ("goal", "7"),
        ("target", "Someone else"),
    ],
)
def test_the_campaign_inline_cannot_change_a_presented_petition(
    client, owner, campaign, presented, field, value
):
    petition = presented.petition
    before = Petition.objects.values().get(pk=petition.pk)
    client.force_login(owner)
    data = campaign_form(client, campaign)
    row = petition_row(data, petition)
    data[f"{row}-{field}"] = value

    response = client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)

    if field in ("title", "target"):  # not in the inline: the form has no such field to change
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert "has been presented" in response.content.decode()
    assert Petition.objects.values().get(pk=petition.pk) == before


def test_the_shell_cannot_change_a_presented_petition(presented):
    petition = Petition.objects.get(pk=presented.petition_id)
    for field, value in [("title", "Changed"), ("slug", "changed"), ("status", "open"),
                         ("statement", "Else"), ("goal", 5)]:  # fmt: skip
        copy = Petition.objects.get(pk=petition.pk)
        setattr(copy, field, value)
        with pytest.raises(SealedPetition):
            copy.save()
        with pytest.raises(ValidationError, match="has been presented"):
            copy.full_clean()

    assert Petition.objects.get(pk=petition.pk).title == petition.title


def test_a_presented_petitions_translations_stay_as_they_were_handed_over(presented):
    petition = Petition.objects.get(pk=presented.petition_id)
    petition.statement_zh_hans = "一份新的译文"
    with pytest.raises(SealedPetition):
        petition.save()

    demand = petition.demands.first()
    demand.text_ko = "새 번역"
    with pytest.raises(SealedPetition):
        demand.save()
    assert not Petition.objects.exclude(statement_zh_hans="").exists()


def test_a_presented_petition_may_be_archived_and_brought_back(presented):
    petition = Petition.objects.get(pk=presented.petition_id)

    petition.status = Petition.Status.ARCHIVED
    petition.save()
    petition.status = Petition.Status.PRESENTED
    petition.save()

    assert Petition.objects.get(pk=petition.pk).status == Petition.Status.PRESENTED


def test_a_presented_petitions_demands_and_paper_batches_are_frozen(presented, owner):
    petition = Petition.objects.get(pk=presented.petition_id)
    demand = petition.demands.first()

    demand.text = "Something else"
    with pytest.raises(SealedPetition):
        demand.save()
    with pytest.raises(SealedPetition):
        demand.delete()
    with pytest.raises(SealedPetition):
        Demand.objects.create(petition=petition, text_en="One more")
    with pytest.raises(SealedPetition):
        paper.record_paper_batch(
            petition, count=5, received_on=date(2025, 5, 1), location="Vigil", user=owner
        )

    assert petition.demands.count() == 3
    assert not PaperBatch.objects.exists()
    assert Petition.objects.get(pk=petition.pk).paper_count == 0


# Moderation after presenting -------------------------------------------------------------------


@pytest.mark.parametrize(
    "change,prepare",
    [
        (moderation.invalidate_signatures, None),
        (moderation.withdraw_signatures, None),
        (moderation.release_signatures, {"held_reason": "a disposable address"}),
        (moderation.restore_signatures, {"status": Signature.Status.INVALIDATED}),
    ],
)
def test_no_moderation_changes_a_presented_petitions_signatures_or_counts(
    presented, change, prepare
):
    petition = presented.petition
    if prepare:
        Signature.objects.filter(petition=petition).update(**prepare)
    rows = list(Signature.objects.values_list("status", "held_reason"))
    count = Petition.objects.values_list("signature_count", flat=True).get(pk=petition.pk)

    assert change(Signature.objects.all()) == 0

    assert list(Signature.objects.values_list("status", "held_reason")) == rows
    assert Petition.objects.values_list("signature_count", flat=True).get(pk=petition.pk) == count
    presented.refresh_from_db()
    assert (presented.online_count, presented.total_count) == (2, 2)


def test_the_admin_says_a_presented_petitions_signatures_stay_as_they_are(client, owner, presented):
    client.force_login(owner)
    ids = list(Signature.objects.values_list("pk", flat=True))
    data = {"action": "invalidate", "_selected_action": ids, "index": "0"}

    page = client.post(reverse("admin:petitions_signature_changelist"), data)
    client.post(reverse("admin:petitions_signature_changelist"), {**data, "confirmed": "yes"})

    assert "2 of them are on presented petitions" in page.content.decode()
    assert not Signature.objects.filter(status=Signature.Status.INVALIDATED).exists()


# The hourly recount ---------------------------------------------------------------------------


def test_the_recount_leaves_presented_and_settled_petitions_alone(
    presented, closed_petition, petition, campaign
):
    from petitions import tasks

    sealed = presented.petition
    make_signature(closed_petition, "c@example.org", status=Signature.Status.CONFIRMED)
    counting.rebuild(closed_petition)
    Petition.objects.filter(pk=closed_petition.pk).update(
        counts_changed_at=datetime.now(UTC) - timedelta(days=3)
    )
    Petition.objects.filter(pk__in=[sealed.pk, closed_petition.pk]).update(signature_count=99)

    assert tasks.recount_petitions.apply().get() == 0

    assert set(Petition.objects.values_list("signature_count", flat=True)) == {99}


def test_the_recount_repairs_a_closed_petition_whose_counts_changed_lately(closed_petition):
    from petitions import tasks

    make_signature(closed_petition, "c@example.org", status=Signature.Status.CONFIRMED)
    counting.rebuild(closed_petition)
    Petition.objects.filter(pk=closed_petition.pk).update(signature_count=99)

    assert tasks.recount_petitions.apply().get() == 1

    assert Petition.objects.get(pk=closed_petition.pk).signature_count == 1


# The seal ----------------------------------------------------------------------------------------


def test_the_seal_is_in_the_document_and_nowhere_public(client, presented, private_media):
    from tests.petitions.test_documents import flat, pdf_text

    document = private_media / presented.document.name
    page = client.get(reverse("petitions:detail", args=[presented.petition.slug]))
    data = client.get(reverse("petitions:detail_json", args=[presented.petition.slug]))

    assert len(presented.seal) == 32
    assert presented.seal in flat(pdf_text(document))
    assert presented.sha256 in page.content.decode()
    assert presented.seal not in page.content.decode() + data.content.decode()


def test_a_rebuild_from_the_record_is_byte_identical_but_a_guess_cannot_be_checked(
    presented, tmp_path
):
    """Anyone can read the names a small petition might have and the page shows everything else
    on the cover; without the seal their guess gives another fingerprint."""
    from petitions.documents import pdf

    _, rebuilt = pdf.presentation_pdf(presented.petition, tmp_path / "a.pdf", presented)
    guess = Presentation.objects.get(pk=presented.pk)
    guess.seal = "0" * 32
    _, guessed = pdf.presentation_pdf(presented.petition, tmp_path / "b.pdf", guess)

    assert rebuilt == presented.sha256
    assert guessed != presented.sha256


def test_each_presentation_has_its_own_seal(presented, owner, campaign):
    from tests.conftest import make_petition

    other = make_petition(campaign, "other")
    second = presenting.present_petition(
        other, presented_on=timezone.localdate(), place="P", recipient="R", presented_by="B"
    )

    assert second.seal and second.seal != presented.seal


# One snapshot; the counts sealed are never written again -----------------------------------------


def presented_unbuilt(petition: Petition) -> Presentation:
    """The petition, open from February to June 2025, presented on 20 June; its document not
    built yet (present_petition queues that on commit, which a test never reaches)."""
    Petition.objects.filter(pk=petition.pk).update(
        opens_at=datetime(2025, 2, 1, tzinfo=UTC), closes_at=datetime(2025, 6, 1, tzinfo=UTC)
    )
    return presenting.present_petition(
        petition,
        presented_on=date(2025, 6, 20),
        place="the Chinese Embassy, London",
        recipient="the Ambassador",
        presented_by="Olivia Owen",
    )


def test_building_the_document_never_overwrites_the_sealed_counts(confirmed_twice, owner):
    from petitions import tasks

    presentation = presented_unbuilt(confirmed_twice)
    # A row counted behind the record's back (a bug, a hand-made UPDATE): the document must not
    # quietly list it and rewrite what was sealed.
    make_signature(confirmed_twice, "sneaked@example.org", status=Signature.Status.CONFIRMED)

    assert tasks.build_presentation.apply(args=[presentation.pk]).get() == "failed"

    presentation.refresh_from_db()
    assert (presentation.online_count, presentation.total_count) == (2, 2)
    assert presentation.status == Presentation.Status.FAILED
    assert "3 signatures are listed, but 2 were sealed" in presentation.error
    assert presentation.sha256 == ""


def test_a_build_that_breaks_is_marked_failed_with_its_reason_and_can_be_built_again(
    confirmed_twice, caplog
):
    from django.db import OperationalError, connection

    from petitions import tasks

    presentation = presented_unbuilt(confirmed_twice)

    def connection_lost_while_listing(execute, sql, params, many, context):
        if sql.startswith("SELECT") and Signature._meta.db_table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(connection_lost_while_listing):
        result = tasks.build_presentation.apply(args=[presentation.pk])

    assert isinstance(result.result, OperationalError)  # the task fails, as the worker logs it
    presentation.refresh_from_db()
    assert presentation.status == Presentation.Status.FAILED
    assert presentation.error == "OperationalError: server closed the connection unexpectedly"
    assert "building the document of presentation" in caplog.text
    assert tasks.build_presentation.apply(args=[presentation.pk]).get() == "built"
    presentation.refresh_from_db()
    assert presentation.status == Presentation.Status.READY and presentation.sha256


def test_presenting_seals_the_counted_rows_even_if_the_kept_count_drifted(confirmed_twice):
    Petition.objects.filter(pk=confirmed_twice.pk).update(signature_count=40)

    presentation = presenting.present_petition(
        confirmed_twice,
        presented_on=timezone.localdate(),
        place="P",
        recipient="R",
        presented_by="B",
    )

    assert presentation.online_count == 2
    assert Petition.objects.get(pk=confirmed_twice.pk).signature_count == 2


@pytest.mark.django_db(transaction=True)
def test_the_cover_and_the_list_of_a_preview_come_from_one_snapshot(
    petition, tmp_path, monkeypatch
):
    """A confirmation committed while the document is being drawn is in neither or both."""
    import threading

    from django.db import connection

    from petitions.documents import pdf
    from tests.petitions.test_documents import page_text

    if connection.vendor != "postgresql":
        pytest.skip("SQLite holds every writer back while the document is read")
    for n in range(2):
        make_signature(petition, f"s{n}@example.org", status=Signature.Status.CONFIRMED)
    late = make_signature(petition, "late@example.org")
    counting.rebuild(petition)
    signer_rows = pdf._signer_rows

    def confirm_meanwhile(of):
        worker = threading.Thread(target=lambda: (signing.confirm(late), connection.close()))
        worker.start()
        worker.join()
        return signer_rows(of)

    monkeypatch.setattr(pdf, "_signer_rows", confirm_meanwhile)

    listed, _ = pdf.presentation_pdf(petition, tmp_path / "preview.pdf")

    assert Signature.objects.get(pk=late.pk).status == Signature.Status.CONFIRMED
    cover = page_text(tmp_path / "preview.pdf", 1, "-layout")
    on_cover = re.search(r"Signatures online \(confirmed by email\)\s+(\d+)", cover)
    assert listed == int(on_cover.group(1)) == 2


# An archived presentation stays public ----------------------------------------------------------


def test_archiving_a_presented_petition_keeps_its_presentation_public(client, presented):
    petition = Petition.objects.get(pk=presented.petition_id)
    petition.status = Petition.Status.ARCHIVED
    petition.save()

    page = client.get(reverse("petitions:detail", args=[petition.slug])).content.decode()
    data = client.get(reverse("petitions:detail_json", args=[petition.slug])).json()
    listed = client.get(reverse("petitions:list_json"), {"status": "archived"}).json()

    assert presented.sha256 in page
    assert data["presented"]["document_sha256"] == presented.sha256
    assert data["presented"]["signature_count"] == 2
    assert listed["results"][0]["presented"]["document_sha256"] == presented.sha256


# The date of a presentation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "opens,closes,presented_on,error",
    [
        ("2025-02-01", "2025-06-01", "2025-01-20", "opened on 1 February 2025"),
        ("2025-02-01", "2025-06-01", "2025-05-31", "signing closed on 1 June 2025"),
        ("2025-02-01", None, "2025-06-01", "signing closes today"),
        ("2025-02-01", "2025-06-01", "2099-01-01", "once it has happened"),
    ],
)
def test_a_presentation_cannot_be_dated_before_the_petition_closed_or_in_the_future(
    client, owner, confirmed_twice, opens, closes, presented_on, error
):
    Petition.objects.filter(pk=confirmed_twice.pk).update(
        opens_at=datetime.fromisoformat(opens).replace(tzinfo=UTC),
        closes_at=closes and datetime.fromisoformat(closes).replace(tzinfo=UTC),
    )
    client.force_login(owner)
    form = {"place": "Embassy", "recipient": "Ambassador", "presented_by": "Olivia"}

    response = client.post(
        reverse("admin:petitions_petition_present", args=[confirmed_twice.pk]),
        {**form, "presented_on": presented_on},
    )

    assert response.status_code == 200
    assert error in response.context["form"].errors["presented_on"][0]
    with pytest.raises(presenting.InvalidPresentation):
        presenting.present_petition(
            confirmed_twice, presented_on=date.fromisoformat(presented_on), **form
        )
    assert not Presentation.objects.exists()
    assert Petition.objects.get(pk=confirmed_twice.pk).status == Petition.Status.OPEN


def test_a_presentation_on_the_day_signing_closed_is_recorded(client, owner, confirmed_twice):
    Petition.objects.filter(pk=confirmed_twice.pk).update(
        opens_at=datetime(2025, 2, 1, tzinfo=UTC), closes_at=datetime(2025, 6, 1, 9, tzinfo=UTC)
    )
    client.force_login(owner)

    with on_commit_runs():
        response = client.post(
            reverse("admin:petitions_petition_present", args=[confirmed_twice.pk]),
            {"presented_on": "2025-06-01", "place": "E", "recipient": "A", "presented_by": "O"},
        )

    assert response.status_code == 302
    assert Presentation.objects.get().presented_on == date(2025, 6, 1)
