from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import audit
from petitions.models.signatures import Signature


class SigningRule(models.Model):
    """An allow or block list entry for signing (petitions/services/abuse.py), kept by superusers: a
    network, an email domain or one address. Allowed: never held (a march's shared wifi).
    Blocked: always held, with this rule as the reason."""

    class Kind(models.TextChoices):
        ALLOW = "allow", "Allow (never hold)"
        BLOCK = "block", "Block (always hold)"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    network = models.CharField(
        max_length=43, blank=True, help_text="e.g. 203.0.113.0/24 or 2001:db8::/48"
    )
    domain = models.CharField(max_length=253, blank=True, help_text="e.g. example.org")
    address = models.CharField(max_length=254, blank=True, help_text="one email address")
    note = models.CharField(max_length=200, blank=True, help_text="Why, for other staff.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "network", "domain", "address"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.network or self.domain or self.address}"

    def clean(self) -> None:
        given = [f for f in ("network", "domain", "address") if getattr(self, f).strip()]
        if len(given) != 1:
            raise ValidationError("Give exactly one of a network, a domain or an address.")
        if self.network:
            try:
                self.network = str(ipaddress.ip_network(self.network.strip(), strict=False))
            except ValueError:
                message = "Not a network such as 203.0.113.0/24."
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
        ADDRESS = "address", "Signatures from one client (an IPv4 address, an IPv6 /64)"
        DOMAIN = "domain", "Signatures from one email domain (big webmail providers excepted)"
        PETITION = "petition", "Signatures to one petition"
        EMAILS_FROM_CLIENT = (
            "emails_client",
            "Confirmation emails for one client (an IPv4 address, an IPv6 /64)",
        )
        EMAILS_TO_DOMAIN = (
            "emails_domain",
            "Confirmation emails to one email domain (big webmail providers excepted)",
        )

    scope = models.CharField(max_length=20, choices=Scope.choices, unique=True)
    limit = models.PositiveIntegerField(
        help_text="Within the window: signatures before the rest are held for staff to look "
        "at, or confirmation emails before the rest are not sent. 0: no limit."
    )
    window_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
