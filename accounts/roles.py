"""What each staff role may do, organisation by organisation.

Owner: everything in the organisation, including its members and its audit log. Manager: creates
and runs campaigns and petitions, sees signers' email addresses. Viewer: sees counts and names,
changes nothing. Superusers run the instance and may do everything everywhere. A staff member's
roles are read once per request (kept on the user object). Nobody has any role, superusers
included, until they have passed their second factor (accounts/two_factor.py).
"""

from __future__ import annotations

from .models import Membership

OWNER, MANAGER, VIEWER = Membership.Role.OWNER, Membership.Role.MANAGER, Membership.Role.VIEWER
READ = frozenset({OWNER, MANAGER, VIEWER})
WRITE = frozenset({OWNER, MANAGER})
ADMINISTER = frozenset({OWNER})


def roles(user) -> dict[int, str]:
    """{organisation id: role} for an active staff member; empty for anyone else."""
    if not (user.is_authenticated and user.is_active and user.is_staff and verified(user)):
        return {}
    cached = getattr(user, "_roles_by_organisation", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("organisation_id", "role"))
        user._roles_by_organisation = cached
    return cached


def role_in(user, organisation_id: int | None) -> str | None:
    """The user's role in the organisation; superusers count as owners everywhere."""
    if _superuser(user):
        return OWNER
    return roles(user).get(organisation_id)


def may(user, allowed: frozenset[str], obj=None, path: str = "organisation") -> bool:
    """Whether the user's role allows it: in the object's organisation (found through `path`),
    or, with no object, in any of their organisations. Superusers may everything."""
    if _superuser(user):
        return True
    if obj is None:
        return bool(organisations_where(user, allowed))
    return role_in(user, organisation_id_of(obj, path)) in allowed


def verified(user) -> bool:
    """Whether this request's user has passed their second factor (django-otp's OTPMiddleware
    puts is_verified on request.user)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def _superuser(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_superuser and verified(user)


def organisations_where(user, allowed: frozenset[str]) -> list[int]:
    return [org for org, role in roles(user).items() if role in allowed]


def scope(queryset, user, allowed: frozenset[str], path: str = "organisation"):
    """The queryset's objects in organisations where the user's role is one of `allowed`
    (found through `path`); every object for superusers, none for anyone without a role."""
    if _superuser(user):
        return queryset
    return queryset.filter(**{f"{path}__in": organisations_where(user, allowed)})


def organisation_id_of(obj, path: str) -> int | None:
    """Follow a lookup such as "petition__campaign__organisation" to the organisation's id
    ("id": the object is the organisation)."""
    if path == "id":
        return obj.pk
    *steps, last = path.split("__")
    for step in steps:
        obj = getattr(obj, step, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)
