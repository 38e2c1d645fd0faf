"""The audit log's entries that follow a change wherever it is made: logins (who signed in or out,
and failed attempts, with the network they came from, never the whole address or the password),
and every change of a member's role, from an admin page, a bulk action or the shell."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from . import audit
from .models import Membership, Organisation


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs) -> None:
    audit.record(user, "logged in", None, user, network=audit.network(request))


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record(user, "logged out", None, user, network=audit.network(request))


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit.record(None, "login failed", None, username, network=audit.network(request))


@receiver(pre_save, sender=Membership)
def role_before(sender, instance: Membership, **kwargs) -> None:
    instance._role_before = (
        Membership.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
        if instance.pk
        else None
    )


@receiver(post_save, sender=Membership)
def role_saved(sender, instance: Membership, **kwargs) -> None:
    before = getattr(instance, "_role_before", None)
    if before != instance.role:
        _record_role(instance, before, instance.role, instance.organisation)


@receiver(post_delete, sender=Membership)
def role_removed(sender, instance: Membership, origin=None, **kwargs) -> None:
    # An organisation being deleted takes its memberships with it: the event cannot point to it.
    model = origin if isinstance(origin, type) else getattr(origin, "model", type(origin))
    organisation = None if model is Organisation else instance.organisation
    _record_role(instance, instance.role, None, organisation)


def _record_role(membership: Membership, before, after, organisation) -> None:
    audit.record(
        audit.current_actor(),
        "role changed",
        organisation,
        membership.user,
        user=membership.user.username,
        before=before,
        after=after,
    )
