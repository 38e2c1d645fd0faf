from __future__ import annotations

import ipaddress
import os
import re
import secrets
import uuid
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.validators import EmailValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import punycode
from django_countries.fields import CountryField

from accounts import roles
from campaigns.models import Campaign
from config.private_files import FILE_MODE, FOLDER_MODE, private_file, private_folder


def raised_goal(goal: int, step: int, count: int) -> int:
    """The first goal above count: goal itself, then goal + step, + step… or, with no step, the
    next of 1, 2, 5 × 10ⁿ."""
    if not goal or count < goal:
        return goal
    if step:
        return goal + step * ((count - goal) // step + 1)
    scale = 1
    while True:
        for factor in (1, 2, 5):
            if factor * scale > count and factor * scale > goal:
                return factor * scale
        scale *= 10


class PetitionQuerySet(models.QuerySet):
    def public(self) -> PetitionQuerySet:
        """Petitions anyone may see: not drafts or scheduled ones, and only in campaigns that
        are public."""
        return self.exclude(status__in=Petition.UNPUBLISHED).filter(
            campaign__status__in=[Campaign.Status.LIVE, Campaign.Status.ENDED]
        )

    def listed(self) -> PetitionQuerySet:
        """Public petitions shown on the home and campaign pages: not archived ones."""
        return self.public().exclude(status=Petition.Status.ARCHIVED)

    def open(self) -> PetitionQuerySet:
        return self.filter(status=Petition.Status.OPEN)

    def sealed(self) -> PetitionQuerySet:
        """Petitions with a presentation: what was handed over, and its counts, stay so."""
        return self.filter(presentations__isnull=False).distinct()

    def unsealed(self) -> PetitionQuerySet:
        return self.exclude(presentations__isnull=False)

    def accepting_signatures(self, now: datetime) -> PetitionQuerySet:
        """Open, and between opens_at and closes_at (Petition.is_accepting_signatures in SQL)."""
        return self.open().filter(
            models.Q(opens_at__isnull=True) | models.Q(opens_at__lte=now),
            models.Q(closes_at__isnull=True) | models.Q(closes_at__gt=now),
        )


def is_sealed(petition_id: int | None) -> bool:
    """Whether a presentation sealed the petition: what was handed over, and its counts, stay
    as they were (PetitionQuerySet.sealed() in SQL)."""
    return petition_id is not None and Presentation.objects.filter(petition_id=petition_id).exists()


class SealedPetition(ValidationError):
    """A change to what a presentation sealed: the petition as handed over, its demands, its
    paper signatures and its counts."""


class Petition(models.Model):
    class Status(models.TextChoices):
        # The life cycle: draft (or scheduled, opened at opens_at by a periodic task) -> open
        # -> closed (by hand, or at closes_at by the same task) -> presented -> archived.
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled (opens at its opening time)"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        PRESENTED = "presented", "Presented"
        ARCHIVED = "archived", "Archived (public, no longer listed)"

    UNPUBLISHED = (Status.DRAFT, Status.SCHEDULED)

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="petitions")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    target = models.CharField(
        max_length=200, help_text="Who the petition is addressed to, e.g. a government."
    )
    statement = models.TextField(help_text="Plain text; blank lines start paragraphs.")
    goal = models.PositiveIntegerField(default=1000)
    goal_step = models.PositiveIntegerField(
        default=0,
        help_text="When the goal is reached, raise it by this much; 0 raises it to the next of "
        "1, 2, 5, 10, 20, 50… thousand.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    # Confirmed online signatures, kept by petitions.counting (tallies folded in batches) so
    # that reading the count is one row, not a COUNT(*).
    signature_count = models.PositiveIntegerField(default=0, editable=False)
    # Signatures collected on paper: the sum of the petition's paper batches, kept by
    # petitions.delivery whenever a batch changes.
    paper_count = models.PositiveIntegerField(default=0, editable=False)
    # When tallies were last folded into the counts (petitions.counting): the hourly recount looks
    # only at petitions whose counts can have changed since its last run.
    counts_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PetitionQuerySet.as_manager()

    # Kept by petitions.counting and petitions.delivery with UPDATE … + n; a save() never writes
    # them, so a form's stale copy cannot undo confirmations made while it was open.
    KEPT_COUNTS = ("signature_count", "paper_count", "counts_changed_at")
    # Once presented, the only change left is between presented and archived (no longer listed).
    SEALED_STATUSES = (Status.PRESENTED, Status.ARCHIVED)

    class Meta:
        ordering = ["campaign", "-opens_at", "title"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        """Save what a form or the shell may change: never the kept counts, and nothing of a
        presented petition but its move between presented and archived (SealedPetition)."""
        if not self._state.adding and self.pk is not None:
            fields = kwargs.get("update_fields") or [
                f.name for f in self._meta.concrete_fields if not f.primary_key
            ]
            kwargs["update_fields"] = [f for f in fields if f not in self.KEPT_COUNTS]
            self._refuse_changes_to_sealed(kwargs["update_fields"])
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("petitions:detail", args=[self.slug])

    def sealed_changes(self, fields=None) -> list[str]:
        """The fields this instance would change that its presentation sealed; [] when the
        petition has no presentation."""
        if not self.is_sealed:
            return []
        stored = Petition.objects.filter(pk=self.pk).values().first() or {}
        changed = []
        for field in self._meta.concrete_fields:
            if field.primary_key or field.name in self.KEPT_COUNTS or not field.editable:
                continue
            if fields is not None and field.name not in fields and field.attname not in fields:
                continue
            value = field.get_prep_value(getattr(self, field.attname))
            if field.name == "status":
                if value not in self.SEALED_STATUSES:
                    changed.append(field.name)
            elif value != field.get_prep_value(stored.get(field.attname)):
                changed.append(field.name)
        return changed

    def _refuse_changes_to_sealed(self, fields) -> None:
        changed = self.sealed_changes(fields)
        if changed:
            raise SealedPetition(
                "This petition has been presented: it stays as it was handed over. Only "
                f"archiving it, or bringing it back from the archive, is possible (not: "
                f"{', '.join(changed)})."
            )

    def clean(self) -> None:
        self._refuse_changes_to_sealed(None)
        if self.status == self.Status.SCHEDULED and not self.opens_at:
            raise ValidationError({"opens_at": "A scheduled petition needs its opening time."})
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "It must close after it opens."})

    @property
    def is_accepting_signatures(self) -> bool:
        """Open, and between opens_at and closes_at (also as a query: accepting_signatures)."""
        now = timezone.now()
        return (
            self.status == self.Status.OPEN
            and (self.opens_at is None or self.opens_at <= now)
            and (self.closes_at is None or now < self.closes_at)
        )

    @property
    def closed_reason(self) -> str:
        """Why the petition cannot be signed now, in words for supporters."""
        now = timezone.now()
        if self.status == self.Status.PRESENTED:
            return "This petition has been presented and no longer takes signatures."
        if self.status == self.Status.CLOSED or (self.closes_at and self.closes_at <= now):
            return "This petition is closed and no longer takes signatures."
        if self.opens_at and self.opens_at > now:
            return f"This petition opens for signatures on {self.opens_at:%-d %B %Y}."
        if self.status in self.UNPUBLISHED:
            return "This petition is not open yet."
        if self.status == self.Status.ARCHIVED:
            return "This petition is archived and no longer takes signatures."
        return ""

    @property
    def is_sealed(self) -> bool:
        return is_sealed(self.pk)

    @property
    def total_count(self) -> int:
        """The public count: confirmed online signatures plus paper signatures."""
        return self.signature_count + self.paper_count

    @property
    def current_goal(self) -> int:
        """The goal shown: the one set, raised in steps once reached."""
        return raised_goal(self.goal, self.goal_step, self.total_count)

    @property
    def milestones(self) -> list[int]:
        """The goals already reached, highest first."""
        reached, goal = [], self.goal
        while goal and goal <= self.total_count:
            reached.append(goal)
            goal = raised_goal(goal, self.goal_step, goal)
        return reached[::-1]

    @property
    def progress_percent(self) -> int:
        goal = self.current_goal
        if not goal:
            return 100
        return min(100, self.total_count * 100 // goal)


class SealedWithThePetition(models.Model):
    """Demands and paper batches: what a presentation sealed with its petition stays as it was,
    whichever path saves or deletes it (an inline, the shell, a task)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.refuse_if_sealed()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.refuse_if_sealed()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.refuse_if_sealed()

    def refuse_if_sealed(self) -> None:
        if is_sealed(self.petition_id):
            raise SealedPetition(
                "This petition has been presented: its demands and paper signatures stay as "
                "they were handed over."
            )


class Demand(SealedWithThePetition):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="demands")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
DOTLESS_DOMAINS = {"gmail.com"}
PLUS_TAG_DOMAINS = {
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "fastmail.com",
    "proton.me",
    "protonmail.com",
}


# Django's check of an address, without the host names it allows without a dot ("localhost").
_email_validator = EmailValidator(allowlist=[])
# An ordinary ASCII mailbox at a domain name, as that check reads one (a dot-atom, host labels, a
# top-level domain), without a quoted local part, an IP literal or a dotless host: nearly every
# signer's address, recognised in a microsecond or two rather than the full check's twenty.
PLAIN_MAILBOX = re.compile(
    r"[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*"
    r"@[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?(?:\.(?!-)[A-Z0-9-]{1,63}(?<!-))*"
    r"\.(?!-)(?:[A-Z-]{2,63}|XN--[A-Z0-9]{1,59})(?<!-)\Z",
    re.IGNORECASE,
)


def validate_signer_email(value: str) -> None:
    """A signer's address must be an ordinary mailbox at a domain name, so that the address we
    mail (emails.mailbox()) is the one that was checked. Django's EmailValidator also takes a
    quoted local part ("<v@evil.example>"@example.com), which mail software may read as another
    address, an IP literal (user@[127.0.0.1]) and a host without a dot (a@localhost): each is
    refused with a message that says why. A domain in any script is fine (it is mailed in its
    IDNA form); the local part is ASCII, as Django's check has it."""
    if len(value) <= 320 and PLAIN_MAILBOX.match(value):
        return
    local, at, domain = value.rpartition("@")
    if at and local.startswith('"'):
        raise ValidationError(
            "Enter the address without quotation marks, such as name@example.org.", code="quoted"
        )
    if at and domain.startswith("["):
        raise ValidationError(
            "Enter an address at a domain name, such as name@example.org, not at an IP address.",
            code="ip_literal",
        )
    if at and local and domain and "." not in domain:
        raise ValidationError(
            "Enter an address with a full domain name, such as name@example.org.", code="no_dot"
        )
    _email_validator(value)
    try:
        punycode(domain)
    except UnicodeError:
        raise ValidationError(_email_validator.message, code="invalid") from None


def with_idna_domain(address: str) -> str:
    """An address as staff see it: followed by its domain's IDNA form when the domain is not
    ASCII, so that a look-alike of a known domain shows what it is:
    "name@bücher.example (xn--bcher-kva.example)"."""
    domain = address.rpartition("@")[2]
    if domain.isascii():
        return address
    try:
        return f"{address} ({punycode(domain)})"
    except UnicodeError:
        return address


class SignaturesAreEvidence(Exception):
    """Signatures are never deleted: they are invalidated or withdrawn (and stop counting), and a
    signer's personal data is erased (petitions.moderation.erase_signers) while the counts stay."""


class SignatureQuerySet(models.QuerySet):
    ORGANISATION = "petition__campaign__organisation"

    def where_role(self, user, allowed: frozenset[str]) -> SignatureQuerySet:
        """Signatures of petitions in organisations where the user's role is one of `allowed`."""
        return roles.scope(self, user, allowed, self.ORGANISATION)

    def delete(self):
        raise SignaturesAreEvidence("Signatures are evidence: they are never deleted.")

    def counted(self) -> SignatureQuerySet:
        """Signatures that count: confirmed, not invalidated or withdrawn, and not held."""
        return self.filter(status=Signature.Status.CONFIRMED, held_reason="")

    def owed_email(self) -> SignatureQuerySet:
        """Signatures owed a confirmation email: asked for and not sent yet."""
        return self.filter(
            status__in=[Signature.Status.PENDING, Signature.Status.CONFIRMED],
            confirmations_sent__lt=models.F("confirmations_requested"),
        )


class Signature(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        INVALIDATED = "invalidated", "Invalidated"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # Not indexed on its own: the unique (petition, address) and (petition, status, verified_at)
    # indexes start with it, and every index costs each of a viral petition's inserts.
    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="signatures", db_index=False
    )
    # Public identifier used in confirmation links; the primary key is never exposed.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254, validators=[validate_signer_email])
    # What duplicates are detected on: the address lower-cased and stripped.
    email_canonical = models.CharField(max_length=254, editable=False)
    country = CountryField()
    city = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=20, default="online", editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    consented_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    # Emails asked for (first signing plus capped re-sends) and emails sent; the requeue task
    # sends what was asked for and never sent.
    confirmations_requested = models.PositiveSmallIntegerField(default=1)
    confirmations_sent = models.PositiveSmallIntegerField(default=0)
    last_confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    # The network the signature came from (203.0.113.0/24): never the whole address.
    ip_network = models.CharField(max_length=43, blank=True, editable=False)
    # Why the signature is held (not counted until staff release it), or "" (petitions/abuse.py).
    held_reason = models.CharField(max_length=100, blank=True, editable=False)
    # When the signer's personal data was erased at their request (moderation.erase_signers); the
    # signature still counts.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SignatureQuerySet.as_manager()

    # What identifies a signer beyond the name, town and country that the delivered petition
    # lists: only roles that may see signers' addresses see these, in any list, page or lookup.
    PRIVATE_FIELDS = ("email", "email_for_staff", "email_canonical", "ip_network")
    ERASED_NAME = "(erased at the signer's request)"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_canonical"], name="one_signature_per_address"
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "status", "verified_at"]),
            models.Index(
                fields=["id"],
                name="signature_owed_email_idx",
                condition=models.Q(confirmations_sent__lt=models.F("confirmations_requested")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    def delete(self, *args, **kwargs):
        raise SignaturesAreEvidence("Signatures are evidence: they are never deleted.")

    def email_for_staff(self) -> str:
        return with_idna_domain(self.email)

    email_for_staff.short_description = "email"
    email_for_staff.admin_order_field = "email"

    @staticmethod
    def canonical_email(address: str) -> str:
        """The address as its mailbox sees it, for finding duplicates: lower case; without a
        +tag where the provider delivers those to the same mailbox; without dots where Gmail
        ignores them."""
        address = address.strip().lower()
        local, at, domain = address.rpartition("@")
        if not at:
            return address
        domain = DOMAIN_ALIASES.get(domain, domain)
        if domain in PLUS_TAG_DOMAINS:
            local = local.split("+", 1)[0]
        if domain in DOTLESS_DOMAINS:
            local = local.replace(".", "")
        return f"{local}@{domain}"


class SigningRule(models.Model):
    """An allow or block list entry for signing (petitions/abuse.py), kept by superusers: a
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
    (petitions/abuse.py): from one client, from one email domain (the big webmail providers
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


class Tally(models.Model):
    """A change to a petition's counts not yet folded into them: +1 for a confirmation, -1 for
    a confirmed signature taken off. Written in the same transaction as the signature's status;
    petitions.counting.fold() adds and deletes tallies together. Inserting a row per signature
    lets confirmations run side by side; updating one counter row each would queue them."""

    id = models.BigAutoField(primary_key=True)
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    country = models.CharField(max_length=2)
    hour = models.DateTimeField(null=True)  # none for a signature with no confirmation time
    delta = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.country} {self.hour}"


class CountryCount(models.Model):
    """Counted signatures from one country, kept by petitions.counting."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="country_counts")
    country = models.CharField(max_length=2)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "country"], name="one_count_per_country")
        ]

    def __str__(self) -> str:
        return f"{self.count} from {self.country}"


class HourlyCount(models.Model):
    """Counted signatures confirmed in one hour (UTC), kept by petitions.counting."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="hourly_counts")
    hour = models.DateTimeField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "hour"], name="one_count_per_hour")
        ]

    def __str__(self) -> str:
        return f"{self.count} at {self.hour:%Y-%m-%d %H}h"


class PrivateStorage(FileSystemStorage):
    """Documents with signers' names: kept under PRIVATE_MEDIA_ROOT, outside any public URL,
    served only through staff views that check access, readable by this user only (0600 files,
    0700 folders: config/private_files.py). The folder is read from the settings each time, so
    that tasks writing and views reading always agree."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=FILE_MODE, directory_permissions_mode=FOLDER_MODE)

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def create(self, name: str) -> Path:
        """An empty private file for `name`, its folders private up to the root, for a task
        that writes a document into it by path."""
        path = Path(self.path(name))
        private_folder(path.parent, root=Path(self.location))
        return private_file(path)


def private_storage() -> FileSystemStorage:
    return PrivateStorage()


class PaperBatch(SealedWithThePetition):
    """Signatures collected on paper (at a march, a vigil, a stall), counted in the total."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="paper_batches")
    count = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    received_on = models.DateField()
    location = models.CharField(max_length=200, help_text="Where they were collected.")
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_on", "pk"]
        verbose_name_plural = "paper batches"

    def __str__(self) -> str:
        return f"{self.count} on paper from {self.location} ({self.received_on})"


def new_seal() -> str:
    return secrets.token_hex(16)


class Presentation(models.Model):
    """What was handed over, when, where and to whom, with the document's fingerprint."""

    class Status(models.TextChoices):
        BUILDING = "building", "Building the document"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="presentations")
    presented_on = models.DateField()
    place = models.CharField(max_length=200, help_text="e.g. the Chinese Embassy, London")
    recipient = models.CharField(max_length=200, help_text="Who received the petition.")
    presented_by = models.CharField(max_length=200, help_text="Who handed it over.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BUILDING)
    document = models.FileField(storage=private_storage, upload_to="presentations/", blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    # A random value printed in the document and kept here, never shown publicly: without it, a
    # guess at a small petition's signers cannot be checked against the published SHA-256, and
    # with it the document can be rebuilt byte for byte.
    seal = models.CharField(max_length=32, default=new_seal, editable=False)
    online_count = models.PositiveIntegerField(default=0)
    paper_count = models.PositiveIntegerField(default=0)
    total_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-presented_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.petition} presented {self.presented_on} at {self.place}"


class Export(models.Model):
    """A staff export too large to build in a request: built by Celery, downloaded when done."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        PDF = "pdf", "PDF (presentation document)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        DELETED = "deleted", "File deleted"

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=3, choices=Format.choices)
    include_email = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(storage=private_storage, upload_to="exports/", blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} of {self.petition} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
