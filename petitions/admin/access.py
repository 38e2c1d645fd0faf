"""Who on the staff may see and do what with a petition, by their role in its organisation."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from accounts import roles
from accounts.models import Membership
from petitions.models import Petition

EMAIL_ROLES = {Membership.Role.OWNER, Membership.Role.MANAGER}
PRESENT_ROLES = {Membership.Role.OWNER, Membership.Role.MANAGER}


def staff_role(user, organisation_id: int) -> str | None:
    """The user's role in the organisation; superusers run the instance and count as owners."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    return roles.role_in(user, organisation_id)


def get_petition_for_staff(request: HttpRequest, pk: object) -> tuple[Petition, str]:
    """The petition and the user's role; 404 for anyone outside its organisation, so that an
    outsider learns nothing, not even that the petition exists."""
    petition = (
        Petition.objects.select_related("campaign__organisation").filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    role = petition and staff_role(request.user, petition.campaign.organisation_id)
    if not role:
        raise Http404("No such petition.")
    return petition, role


def can_see_emails(role: str) -> bool:
    return role in EMAIL_ROLES


def can_present(role: str) -> bool:
    return role in PRESENT_ROLES
