"""Each staff member sees and does in the admin exactly what their role allows, organisation by
organisation: role x model x action. Owners and managers have no Django model permissions at
all here; only their memberships decide."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.models import AuditEvent, Membership, Organisation
from campaigns.models import Campaign
from petitions.models import Export, Presentation, Signature
from tests.conftest import make_petition, make_signature

MODELS = [
    "campaigns.campaign",
    "petitions.petition",
    "petitions.signature",
    "petitions.presentation",
    "petitions.export",
    "accounts.membership",
    "accounts.organisation",
    "accounts.auditevent",
]
# Who may open each model's list at all (the outsider owns another organisation).
READERS = {
    "accounts.auditevent": {"owner", "outsider"},
}
ALL_STAFF = {"owner", "manager", "viewer", "outsider"}


@pytest.fixture
def world(organisation, other_organisation, campaign, petition, owner, manager, viewer, outsider):
    """Ours and theirs: the same kinds of objects in both organisations."""
    theirs = Campaign.objects.create(
        organisation=other_organisation, title_en="Their campaign", slug="theirs", status="live"
    )
    their_petition = make_petition(theirs, "their-petition", title_en="Their petition")
    make_signature(petition, "our.signer@example.org", name="Our Signer", status="confirmed")
    make_signature(their_petition, "their.signer@example.org", name="Their Signer")
    Presentation.objects.create(
        petition=petition, presented_on="2025-06-01", place="Our embassy", recipient="Ambassador"
    )
    Presentation.objects.create(
        petition=their_petition, presented_on="2025-06-01", place="Their embassy", recipient="X"
    )
    Export.objects.create(petition=petition, format="csv")
    Export.objects.create(petition=their_petition, format="csv")
    AuditEvent.objects.create(organisation=organisation, action="our event", target="ours")
    AuditEvent.objects.create(organisation=other_organisation, action="their event", target="x")
    return {
        "owner": owner,
        "manager": manager,
        "viewer": viewer,
        "outsider": outsider,
        "ours": {"campaign": campaign, "petition": petition},
        "theirs": {"campaign": theirs, "petition": their_petition},
    }


def admin_url(model: str, view: str, *args) -> str:
    app, name = model.split(".")
    return reverse(f"admin:{app}_{name}_{view}", args=args)


def test_staff_have_no_django_model_permissions(world):
    for role in ("owner", "manager", "viewer"):
        assert not world[role].user_permissions.exists() and not world[role].is_superuser


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("role", sorted(ALL_STAFF))
def test_lists_show_only_the_staff_members_own_organisations(client, world, model, role):
    client.force_login(world[role])

    response = client.get(admin_url(model, "changelist"))

    if role not in READERS.get(model, ALL_STAFF):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    page = response.content.decode()
    ours_visible = any(
        text in page
        for text in ["Run for your Life", "Grant refugees safe passage", "Our Signer",
                     "our event", "Release International"]
    )  # fmt: skip
    theirs_visible = any(
        text in page
        for text in ["Their campaign", "Their petition", "Their Signer", "their event",
                     "Another Group"]
    )  # fmt: skip
    assert ours_visible == (role != "outsider")
    assert theirs_visible == (role == "outsider")


def our_object(world, model):
    ours = world["ours"]
    return {
        "campaigns.campaign": ours["campaign"],
        "petitions.petition": ours["petition"],
        "petitions.signature": Signature.objects.get(name="Our Signer"),
        "petitions.presentation": Presentation.objects.get(place="Our embassy"),
        "petitions.export": Export.objects.get(petition=ours["petition"]),
        "accounts.membership": Membership.objects.get(user=world["viewer"]),
        "accounts.organisation": ours["campaign"].organisation,
        "accounts.auditevent": AuditEvent.objects.get(action="our event"),
    }[model]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("role", sorted(ALL_STAFF))
def test_an_object_opens_only_for_its_organisation(client, world, model, role):
    client.force_login(world[role])
    obj = our_object(world, model)

    response = client.get(admin_url(model, "change", obj.pk))

    readers = READERS.get(model, ALL_STAFF) - {"outsider"}
    if role in readers:
        assert response.status_code == 200
    elif role == "outsider":
        # Django's "does not exist" redirect: not even the object's name is shown.
        assert response.status_code in (302, 403)
        assert str(obj) not in client.get(response.get("Location", "/admin/")).content.decode()
    else:
        assert response.status_code == 403


WRITABLE = {
    # model: (roles that may save our object, the form data)
    "campaigns.campaign": {"owner", "manager"},
    "petitions.petition": {"owner", "manager"},
    "accounts.organisation": {"owner"},
}


@pytest.mark.parametrize("model", sorted(WRITABLE))
@pytest.mark.parametrize("role", ["owner", "manager", "viewer", "outsider"])
def test_only_writers_get_a_save_button(client, world, model, role):
    client.force_login(world[role])
    obj = our_object(world, model)

    page = client.get(admin_url(model, "change", obj.pk))

    if role == "outsider":
        assert page.status_code != 200
        return
    assert ('name="_save"' in page.content.decode()) == (role in WRITABLE[model])


@pytest.mark.parametrize("role", ["owner", "manager", "viewer", "outsider"])
def test_changing_a_campaign_is_refused_to_viewers_and_outsiders(client, world, role):
    client.force_login(world[role])
    campaign = world["ours"]["campaign"]

    response = client.post(
        admin_url("campaigns.campaign", "change", campaign.pk),
        {
            "organisation": campaign.organisation_id,
            "language": "en",
            "title_en": "Renamed",
            "slug": campaign.slug,
            "status": campaign.status,
            **empty_inlines(),
        },
    )

    campaign.refresh_from_db()
    if role in ("owner", "manager"):
        assert response.status_code == 302, response.content.decode()[:2000]
        assert campaign.title == "Renamed"
    else:
        assert response.status_code in (302, 403)
        assert campaign.title == "Run for your Life"


def empty_inlines() -> dict[str, str]:
    data = {}
    for prefix in ["petitions", "stories", "events", "resources"]:
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data


def test_a_manager_can_only_create_campaigns_in_their_own_organisation(client, world):
    client.force_login(world["manager"])
    url = admin_url("campaigns.campaign", "add")
    theirs = world["theirs"]["campaign"].organisation

    assert client.get(url).status_code == 200
    refused = client.post(
        url,
        {"organisation": theirs.pk, "language": "en", "title_en": "Planted", "slug": "planted"}
        | {"status": "draft"}
        | empty_inlines(),
    )
    created = client.post(
        url,
        {
            "organisation": world["ours"]["campaign"].organisation_id,
            "language": "en",
            "title_en": "New campaign",
            "slug": "new-campaign",
            "status": "draft",
        }
        | empty_inlines(),
    )

    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert not Campaign.objects.filter(slug="planted").exists()
    assert created.status_code == 302
    assert Campaign.objects.filter(slug="new-campaign").exists()


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_outsiders_cannot_add_or_delete(client, world, role):
    client.force_login(world[role])
    campaign = world["ours"]["campaign"]

    assert client.get(admin_url("campaigns.campaign", "add")).status_code == (
        403 if role == "viewer" else 200  # the outsider may add to their own organisation
    )
    response = client.post(admin_url("campaigns.campaign", "delete", campaign.pk), {"post": "yes"})

    assert response.status_code in (302, 403)
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_only_owners_delete(client, world):
    client.force_login(world["manager"])
    campaign = Campaign.objects.create(
        organisation=world["ours"]["campaign"].organisation, title_en="Spare", slug="spare"
    )
    url = admin_url("campaigns.campaign", "delete", campaign.pk)

    assert client.get(url).status_code == 403
    client.force_login(world["owner"])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


@pytest.mark.parametrize(("role", "sees"), [("owner", True), ("manager", True), ("viewer", False)])
def test_only_owners_and_managers_see_signers_addresses(client, world, role, sees):
    client.force_login(world[role])
    signature = Signature.objects.get(name="Our Signer")

    listing = client.get(admin_url("petitions.signature", "changelist")).content.decode()
    page = client.get(admin_url("petitions.signature", "change", signature.pk)).content.decode()
    search = client.get(admin_url("petitions.signature", "changelist"), {"q": "our.signer"})

    assert "Our Signer" in listing
    assert ("our.signer@example.org" in listing) == sees
    assert ("our.signer@example.org" in page) == sees
    assert ("Our Signer" in search.content.decode()) == sees  # no searching by address either


def test_the_signature_filter_names_only_the_staff_members_petitions(client, world):
    client.force_login(world["manager"])

    page = client.get(admin_url("petitions.signature", "changelist")).content.decode()

    assert "Their petition" not in page


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_only_owners_change_roles(client, world, role):
    client.force_login(world[role])
    membership = Membership.objects.get(user=world["viewer"])

    response = client.post(
        admin_url("accounts.membership", "change", membership.pk), {"role": "owner"}
    )

    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == "viewer"


def test_an_owner_changes_a_role_and_it_is_audited(client, world):
    client.force_login(world["owner"])
    membership = Membership.objects.get(user=world["viewer"])

    response = client.post(
        admin_url("accounts.membership", "change", membership.pk), {"role": "manager"}
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "manager"
    event = AuditEvent.objects.get(action="role changed", actor=world["owner"])
    assert event.actor == world["owner"]
    assert event.detail == {"user": "vera", "before": "viewer", "after": "manager"}
    assert client.get(admin_url("accounts.membership", "add")).status_code == 403


def test_an_owner_removes_a_member_from_the_organisation_page_and_it_is_audited(client, world):
    client.force_login(world["owner"])
    organisation = world["ours"]["campaign"].organisation
    memberships = list(organisation.memberships.order_by("pk"))
    data = {
        "name": organisation.name,
        "slug": organisation.slug,
        "website": "",
        "description": "",
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(memberships):
        data |= {
            f"memberships-{i}-id": str(membership.pk),
            f"memberships-{i}-organisation": str(organisation.pk),
            f"memberships-{i}-role": membership.role,
        }
        if membership.user == world["viewer"]:
            data[f"memberships-{i}-DELETE"] = "on"

    response = client.post(admin_url("accounts.organisation", "change", organisation.pk), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert not Membership.objects.filter(user=world["viewer"]).exists()
    event = AuditEvent.objects.get(action="role changed", actor=world["owner"])
    assert event.detail == {"user": "vera", "before": "viewer", "after": None}


def test_nobody_edits_the_audit_log(client, world, superuser):
    event = AuditEvent.objects.get(action="our event")
    for user in (world["owner"], superuser):
        client.force_login(user)
        response = client.post(
            admin_url("accounts.auditevent", "change", event.pk), {"action": "rewritten"}
        )
        assert response.status_code == 403
    event.refresh_from_db()
    assert event.action == "our event"


def test_an_owner_deletes_a_membership_and_it_is_audited(client, world):
    client.force_login(world["owner"])
    membership = Membership.objects.get(user=world["viewer"])

    response = client.post(
        admin_url("accounts.membership", "delete", membership.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = AuditEvent.objects.get(action="role changed", actor=world["owner"])
    assert (event.actor, event.detail) == (
        world["owner"],
        {"user": "vera", "before": "viewer", "after": None},
    )


def test_removing_members_in_bulk_audits_each_of_them(client, world):
    client.force_login(world["owner"])
    removed = Membership.objects.filter(user__in=[world["viewer"], world["manager"]])

    response = client.post(
        admin_url("accounts.membership", "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(pk) for pk in removed.values_list("pk", flat=True)],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not removed.exists()
    details = AuditEvent.objects.filter(action="role changed", actor=world["owner"]).values_list(
        "detail", flat=True
    )
    assert sorted(details, key=lambda detail: detail["user"]) == [
        {"user": world["manager"].username, "before": "manager", "after": None},
        {"user": "vera", "before": "viewer", "after": None},
    ]


def test_a_role_changed_in_the_shell_is_audited_too(world):
    membership = Membership.objects.get(user=world["viewer"])

    membership.role = Membership.Role.OWNER
    membership.save()
    Membership.objects.filter(pk=membership.pk).delete()

    events = AuditEvent.objects.filter(action="role changed", target="vera").order_by("pk")
    assert [(event.actor, event.detail) for event in events][-2:] == [
        (None, {"user": "vera", "before": "viewer", "after": "owner"}),
        (None, {"user": "vera", "before": "owner", "after": None}),
    ]


def test_an_organisation_deleted_with_its_members_keeps_their_removal_in_the_log(world):
    organisation = Organisation.objects.create(name="A short-lived group", slug="short-lived")
    Membership.objects.create(user=world["outsider"], organisation=organisation, role="viewer")

    organisation.delete()  # PostgreSQL checks the log's foreign keys at the commit

    removal = AuditEvent.objects.get(action="role changed", detail__after=None)
    assert removal.detail == {"user": "oscar", "before": "viewer", "after": None}
    assert removal.organisation is None
    transaction.get_connection().check_constraints()


def test_a_user_deleted_leaves_the_removal_of_their_roles_in_the_log(world):
    world["viewer"].delete()

    removal = AuditEvent.objects.get(action="role changed", detail__after=None)
    assert removal.detail == {"user": "vera", "before": "viewer", "after": None}
    assert removal.organisation == world["ours"]["campaign"].organisation
    transaction.get_connection().check_constraints()
