"""Signers' addresses reach only the roles that may see them, whatever path a member of staff
takes: a list's URL lookups, its search, a bulk action, a delete, the "view on site" shortcut."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accounts import audit
from accounts.models import AuditEvent, Membership, User
from campaigns.models import Campaign
from petitions.models import Export, Petition, Signature, SignaturesAreEvidence
from petitions.services import counting, moderation
from tests.conftest import make_petition, make_signature

ROLES = ["owner", "manager", "viewer", "outsider", "superuser"]

# Lookups that would read a field the list does not offer as a filter: personal data (an
# address, a network, a username, a login's address) or anything reached through a relation.
LOOKUPS = {
    "petitions.signature": [
        "email",
        "email__regex",
        "email__startswith",
        "email__iexact",
        "email_canonical__startswith",
        "ip_network__startswith",
        "name__regex",
        "petition__signatures__email__regex",
        "petition__id__regex",
        "status__regex",
    ],
    "accounts.auditevent": [
        "detail__network__startswith",
        "target__regex",
        "actor__email__startswith",
        "actor__password__startswith",
    ],
    "petitions.export": ["file__contains", "include_email", "requested_by__email__startswith"],
    "axes.accessattempt": ["ip_address__startswith", "username__regex", "user_agent__contains"],
    "axes.accesslog": ["ip_address__startswith", "username__regex"],
    "accounts.user": ["email__startswith", "password__startswith"],
}
MATRIX = [(model, lookup) for model, lookups in LOOKUPS.items() for lookup in lookups]


@pytest.fixture
def cast(owner, manager, viewer, outsider, superuser):
    return {
        "owner": owner,
        "manager": manager,
        "viewer": viewer,
        "outsider": outsider,
        "superuser": superuser,
    }


@pytest.fixture
def records(petition, owner, organisation):
    signature = make_signature(
        petition, "alice@example.org", name="Alice", status=Signature.Status.CONFIRMED
    )
    Signature.objects.filter(pk=signature.pk).update(ip_network="203.0.113.0/24")
    counting.rebuild(petition)
    Export.objects.create(petition=petition, format="csv", include_email=True, requested_by=owner)
    audit.record(owner, "csv export", organisation, petition, network="203.0.113.0/24")
    AccessAttempt.objects.create(
        username="olivia", ip_address="203.0.113.7", user_agent="x", failures_since_start=1
    )
    AccessLog.objects.create(username="olivia", ip_address="203.0.113.7", user_agent="x")
    return signature


def changelist(model: str) -> str:
    app, name = model.split(".")
    return reverse(f"admin:{app}_{name}_changelist")


@pytest.mark.parametrize("model,lookup", MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_no_role_filters_a_list_by_a_field_it_does_not_offer(
    client, cast, records, role, model, lookup
):
    client.force_login(cast[role])

    response = client.get(changelist(model), {lookup: "a"})

    assert response.status_code in (400, 403)  # 403: the role may not open the list at all
    assert b"result" not in response.content


@pytest.mark.parametrize(
    "query",
    [
        {"status__exact": "confirmed"},
        {"held": "yes"},
        {"country__exact": "KR"},
        {
            "created_at__gte": "2020-01-01 00:00:00+00:00",
            "created_at__lt": "2100-01-01 00:00:00+00:00",
        },
        {"verified_at__isnull": "True"},
    ],
)
@pytest.mark.parametrize("role", ["owner", "viewer", "superuser"])
def test_the_lists_own_filters_still_work(client, cast, records, role, query):
    client.force_login(cast[role])

    response = client.get(changelist("petitions.signature"), query)

    assert response.status_code == 200


def test_the_dashboards_link_to_held_signatures_still_works(client, owner, records, petition):
    client.force_login(owner)

    response = client.get(
        changelist("petitions.signature"), {"held": "yes", "petition__id__exact": petition.pk}
    )

    assert response.status_code == 200


# One role in one organisation, another in the next -------------------------------------------


@pytest.fixture
def mixed(petition, organisation, other_organisation, viewer):
    """Vera only views our organisation's signatures but manages another organisation."""
    Membership.objects.create(
        user=viewer, organisation=other_organisation, role=Membership.Role.MANAGER
    )
    theirs = Campaign.objects.create(
        organisation=other_organisation, title_en="Their campaign", slug="theirs", status="live"
    )
    their_petition = make_petition(theirs, "their-petition", title_en="Their petition")
    ours = make_signature(
        petition, "ours@example.org", name="Our Signer", status=Signature.Status.CONFIRMED
    )
    theirs = make_signature(
        their_petition, "theirs@example.org", name="Their Signer", status="confirmed"
    )
    counting.rebuild(petition)
    counting.rebuild(their_petition)
    return {"ours": ours, "theirs": theirs}


def test_a_mixed_role_sees_addresses_only_where_it_may(client, viewer, mixed):
    client.force_login(viewer)

    page = client.get(changelist("petitions.signature")).content.decode()

    assert "Our Signer" in page and "Their Signer" in page
    assert "theirs@example.org" in page
    assert "ours@example.org" not in page


def test_a_mixed_role_finds_by_address_only_where_it_may(client, viewer, mixed):
    client.force_login(viewer)

    ours = client.get(changelist("petitions.signature"), {"q": "ours@example.org"})
    theirs = client.get(changelist("petitions.signature"), {"q": "theirs@example.org"})
    by_name = client.get(changelist("petitions.signature"), {"q": "Our Signer"})

    assert "Our Signer" not in ours.content.decode()
    assert "Their Signer" in theirs.content.decode()
    assert "Our Signer" in by_name.content.decode()


def test_a_mixed_roles_signature_page_shows_an_address_only_where_it_may(client, viewer, mixed):
    client.force_login(viewer)

    ours = client.get(reverse("admin:petitions_signature_change", args=[mixed["ours"].pk]))
    theirs = client.get(reverse("admin:petitions_signature_change", args=[mixed["theirs"].pk]))

    assert "ours@example.org" not in ours.content.decode()
    assert "203.0.113" not in ours.content.decode()
    assert "theirs@example.org" in theirs.content.decode()


ACTIONS = {
    "invalidate": moderation.invalidate_signatures,
    "withdraw": moderation.withdraw_signatures,
    "restore": moderation.restore_signatures,
    "release": moderation.release_signatures,
    "resend": moderation.resend_confirmations,
}


def _prepare_for(action: str, signatures: list[Signature]) -> None:
    """Put the signatures in a state the action changes."""
    ids = [s.pk for s in signatures]
    if action == "restore":
        Signature.objects.filter(pk__in=ids).update(status=Signature.Status.INVALIDATED)
    if action == "release":
        Signature.objects.filter(pk__in=ids).update(held_reason="a disposable address")
    if action == "resend":
        Signature.objects.filter(pk__in=ids).update(status=Signature.Status.PENDING)


def _state(signature: Signature) -> tuple:
    return Signature.objects.values_list("status", "held_reason", "confirmations_requested").get(
        pk=signature.pk
    )


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_mixed_roles_bulk_action_changes_only_where_its_role_allows(
    client, viewer, mixed, action
):
    _prepare_for(action, list(mixed.values()))
    ours_before = _state(mixed["ours"])
    client.force_login(viewer)
    data = {
        "action": action,
        "select_across": "1",
        "index": "0",
        "_selected_action": [s.pk for s in mixed.values()],
    }

    count_first = client.post(changelist("petitions.signature"), data)
    done = client.post(changelist("petitions.signature"), {**data, "confirmed": "yes"})

    assert count_first.status_code == 200
    assert count_first.context["total"] == 1 and count_first.context["left_out"] == 1
    assert done.status_code == 302
    assert _state(mixed["ours"]) == ours_before
    assert _state(mixed["theirs"]) != ours_before
    ours = mixed["ours"].petition.campaign.organisation
    assert not AuditEvent.objects.filter(organisation=ours).exclude(action="role changed")


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_service_call_by_a_member_of_staff_changes_only_where_its_role_allows(
    viewer, mixed, action
):
    _prepare_for(action, list(mixed.values()))
    ours_before = _state(mixed["ours"])
    viewer.is_verified = lambda: True  # as after the second factor (accounts/roles.py)

    changed = ACTIONS[action](Signature.objects.all(), by=viewer)

    assert changed == 1
    assert _state(mixed["ours"]) == ours_before
    assert _state(mixed["theirs"]) != ours_before


# No deletes; erasing keeps the count ----------------------------------------------------------


def test_no_role_deletes_a_signature_in_the_admin(client, cast, records):
    for role in ROLES:
        client.force_login(cast[role])
        url = reverse("admin:petitions_signature_delete", args=[records.pk])

        page = client.get(url)
        posted = client.post(url, {"post": "yes"})
        bulk = client.post(
            changelist("petitions.signature"),
            {"action": "delete_selected", "_selected_action": [records.pk], "post": "yes"},
        )

        assert page.status_code in (403, 302), role
        assert posted.status_code in (403, 302), role
        assert bulk.status_code in (200, 302, 403), role
        assert Signature.objects.filter(pk=records.pk).exists(), role


def test_the_shell_cannot_delete_a_signature_either(records):
    with pytest.raises(SignaturesAreEvidence):
        records.delete()
    with pytest.raises(SignaturesAreEvidence):
        Signature.objects.filter(pk=records.pk).delete()

    assert Signature.objects.filter(pk=records.pk).exists()


def test_an_owner_erases_a_signers_personal_data_and_the_count_stays(
    client, owner, records, petition
):
    client.force_login(owner)
    data = {"action": "erase", "_selected_action": [records.pk], "index": "0"}

    client.post(changelist("petitions.signature"), {**data, "confirmed": "yes"})

    erased = Signature.objects.get(pk=records.pk)
    assert erased.erased_at is not None
    assert (erased.name, erased.email, erased.city, erased.ip_network) == (
        Signature.ERASED_NAME,
        "",
        "",
        "",
    )
    assert "alice" not in erased.email_canonical
    assert erased.status == Signature.Status.CONFIRMED
    petition.refresh_from_db()
    assert petition.signature_count == 1
    event = AuditEvent.objects.get(action="signatures erased")
    assert event.actor == owner and event.detail == {"selected": 1, "changed": 1}
    assert "alice" not in str(event.detail) + event.target


@pytest.mark.parametrize("role", ["manager", "viewer", "outsider"])
def test_only_owners_erase(client, cast, records, role):
    client.force_login(cast[role])
    data = {"action": "erase", "_selected_action": [records.pk], "index": "0", "confirmed": "yes"}

    client.post(changelist("petitions.signature"), data)

    assert Signature.objects.get(pk=records.pk).erased_at is None
    cast[role].is_verified = lambda: True  # as after the second factor (accounts/roles.py)
    assert moderation.erase_signers(Signature.objects.all(), by=cast[role]) == 0


def test_an_erased_signature_is_never_mailed_again(records):
    moderation.erase_signers(Signature.objects.all())
    Signature.objects.filter(pk=records.pk).update(status=Signature.Status.PENDING)

    assert moderation.resend_confirmations(Signature.objects.all()) == 0
    assert not Signature.objects.owed_email().exists()


# View on site ----------------------------------------------------------------------------------


def test_view_on_site_leads_only_to_the_users_own_organisations_objects(
    client, outsider, owner, draft_petition, campaign
):
    petition_type = ContentType.objects.get_for_model(Petition)
    campaign_type = ContentType.objects.get_for_model(Campaign)
    their_petition = reverse("admin:view_on_site", args=[petition_type.pk, draft_petition.pk])
    their_campaign = reverse("admin:view_on_site", args=[campaign_type.pk, campaign.pk])

    client.force_login(outsider)
    assert client.get(their_petition).status_code == 404
    assert client.get(their_campaign).status_code == 404
    assert (
        client.get(reverse("admin:view_on_site", args=[petition_type.pk, 99999])).status_code == 404
    )
    assert client.get(reverse("admin:view_on_site", args=[99999, 1])).status_code == 404

    client.force_login(owner)
    response = client.get(their_petition)
    assert response.status_code == 302
    assert f"/petitions/{draft_petition.slug}/" in response["Location"]


def test_view_on_site_needs_the_second_factor(client, owner, draft_petition):
    petition_type = ContentType.objects.get_for_model(Petition)
    client.force_login(owner, second_factor=False)

    response = client.get(reverse("admin:view_on_site", args=[petition_type.pk, draft_petition.pk]))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"] or "two-factor" in response["Location"]


def test_staff_users_are_not_readable_through_lookups(client, superuser):
    User.objects.create_user("someone", "someone@example.org", "x" * 20)
    client.force_login(superuser)

    response = client.get(changelist("accounts.user"), {"email__startswith": "someone"})

    assert response.status_code == 400
