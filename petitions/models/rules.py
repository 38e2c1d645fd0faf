from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from accounts import audit
from petitions.models.signatures import Signature


class SigningRule(models.Model):
    """An allow or block list entry for signing (petitions/services/abuse.py), kept by superusers: a
    network, an email domain or one address. Allowed: never held (a march's shared wifi).
    Blocked: always held, with this rule as the reason."""

    class Kind(models.TextChoices):
        ALLOW = "allow", _("Allow (never hold)")
        BLOCK = "block", _("Block (always hold)")

    kind = models.CharField(max_length=5, choices=Kind.choices, verbose_name=_("kind"))
    network = models.CharField(
        max_length=43,
        blank=True,
        help_text=_("e.g. 203.0.113.0/24 or 2001:db8::/48"),
        verbose_name=_("network"),
    )
    domain = models.CharField(
        max_length=253,
        blank=True,
        help_text=_("e.g. example.org"),
        verbose_name=_("domain"),
    )
    address = models.CharField(
        max_length=254,
        blank=True,
        help_text=_("one email address"),
        verbose_name=_("address"),
    )
    note = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Why, for other staff."),
        verbose_name=_("note"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("signing rule")
        verbose_name_plural = _("signing rules")
        ordering = ["kind", "network", "domain", "address"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.network or self.domain or self.address}"

    def clean(self) -> None:
        given = [f for f in ("network", "domain", "address") if getattr(self, f).strip()]
        if len(given) != 1:
            raise ValidationError(_("Give exactly one of a network, a domain or an address."))
        if self.network:
            try:
                self.network = str(ipaddress.ip_network(self.network.strip(), strict=False))
            except ValueError:
                message = _("Not a network such as 203.0.113.0/24.")
                raise ValidationError({"network": message}) from None
        self.domain = self.domain.strip().lower().lstrip("@")
        self.address = Signature.canonical_email(self.address) if self.address else ""


class SigningLimit(models.Model):
    """How many signatures may come within a window before the rest are held, not refused
    (petitions/services/abuse.py): from one client, from one email domain (the big webmail providers
    excepted), or to one petition; and how many confirmation emails may be sent within a window
    for one client, or to one email domain, before the rest are not sent (the signatures are
    still saved). Kept by superusers; one row per scope."""

    class Scope(models.TextChoices):
        ADDRESS = "address", _("Signatures from one client (an IPv4 address, an IPv6 /64)")
        DOMAIN = "domain", _("Signatures from one email domain (big webmail providers excepted)")
        PETITION = "petition", _("Signatures to one petition")
        EMAILS_FROM_CLIENT = (
            "emails_client",
            _("Confirmation emails for one client (an IPv4 address, an IPv6 /64)"),
        )
        EMAILS_TO_DOMAIN = (
            "emails_domain",
            _("Confirmation emails to one email domain (big webmail providers excepted)"),
        )

    scope = models.CharField(
        max_length=20, choices=Scope.choices, unique=True, verbose_name=_("scope")
    )
    limit = models.PositiveIntegerField(
        help_text=_(
            "Within the window: signatures before the rest are held for staff to look "
            "at, or confirmation emails before the rest are not sent. 0: no limit."
        ),
        verbose_name=_("limit"),
    )
    window_minutes = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
        verbose_name=_("window minutes"),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("signing limit")
        verbose_name_plural = _("signing limits")
        ordering = ["scope"]

    def __str__(self) -> str:
        if not self.limit:
            return f"{self.get_scope_display()}: no limit"
        return f"{self.get_scope_display()}: {self.limit} in {self.window_minutes} minutes"


@receiver(post_save, sender=SigningLimit)
def audit_limit(sender, instance: SigningLimit, **kwargs) -> None:
    """Every change of a limit is in the audit log, from the admin or the shell alike."""
    audit.record(
        audit.current_actor(), "signing limit changed", None, instance,
        limit=instance.limit, window_minutes=instance.window_minutes,
    )  # fmt: skip
