"""What a presentation sealed stays as it was, and no form writes the kept counts, whatever path
edits a petition: its own change form, the campaign's petition inline, the shell, a bulk action."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save
from django.urls import reverse

from petitions import counting, delivery, moderation, signing
from petitions.models import Demand, PaperBatch, Petition, Presentation, SealedPetition, Signature
from tests.conftest import make_signature, on_commit_runs
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
        presentation = delivery.present_petition(
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


def test_renaming_a_petition_in_the_campaign_inline_keeps_a_confirmation_counted_meanwhile(
    client, owner, campaign, confirmed_twice
):
    pending = make_signature(confirmed_twice, "late@example.org")
    client.force_login(owner)
    data = campaign_form(client, campaign)
    data[petition_row(data, confirmed_twice) + "-title"] = "A new title"

    def confirm_meanwhile(sender, instance, **kwargs):
        pre_save.disconnect(confirm_meanwhile, sender=Petition)
        assert signing.confirm(pending) == signing.Confirmation.CONFIRMED

    pre_save.connect(confirm_meanwhile, sender=Petition)
    try:
        response = client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)
    finally:
        pre_save.disconnect(confirm_meanwhile, sender=Petition)

    assert response.status_code == 302
    confirmed_twice.refresh_from_db()
    assert confirmed_twice.title == "A new title"
    assert confirmed_twice.signature_count == 3


def test_a_save_from_the_shell_never_writes_the_kept_counts(confirmed_twice):
    stale = Petition.objects.get(pk=confirmed_twice.pk)
    Petition.objects.filter(pk=stale.pk).update(signature_count=5, paper_count=7)

    stale.title = "Renamed in the shell"
    stale.signature_count = 0
    stale.save()
    stale.save(update_fields=["signature_count", "paper_count"])

    assert Petition.objects.values_list("title", "signature_count", "paper_count").get(
        pk=stale.pk
    ) == ("Renamed in the shell", 5, 7)


# A presented petition is frozen whatever edits it ------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [("title", "Changed"), ("slug", "changed"), ("status", "open"), ("target", "Someone else")],
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

    if field == "target":  # not in the inline: the form has no such field to change
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
        Demand.objects.create(petition=petition, text="One more")
    with pytest.raises(SealedPetition):
        delivery.record_paper_batch(
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
