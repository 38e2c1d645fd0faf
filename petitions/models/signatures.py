from __future__ import annotations

import re
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from django.utils import timezone
from django.utils.encoding import punycode
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_countries.fields import CountryField

from petitions.models.petitions import Petition

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
            _("Enter the address without quotation marks, such as name@example.org."),
            code="quoted",
        )
    if at and domain.startswith("["):
        raise ValidationError(
            _("Enter an address at a domain name, such as name@example.org, not at an IP address."),
            code="ip_literal",
        )
    if at and local and domain and "." not in domain:
        raise ValidationError(
            _("Enter an address with a full domain name, such as name@example.org."),
            code="no_dot",
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


def petition_ids_where(user, allowed: frozenset[str]) -> list[int]:
    """The ids of the petitions in organisations where the user's role is one of `allowed`."""
    return list(Petition.objects.where_role(user, allowed).values_list("pk", flat=True))


# The start of a network as ip_network keeps it: IPv4 digits and dots, or IPv6 hex and colons.
NETWORK_START = re.compile(r"[0-9]{1,3}\.[0-9./]*|[0-9a-f]{0,4}:[0-9a-f:./]*", re.IGNORECASE)


def _private_match(word: str) -> models.Q:
    """What a search word matches in a signer's address or network (see matching())."""
    if PLAIN_MAILBOX.match(word):
        return models.Q(email_canonical=Signature.canonical_email(word))
    if NETWORK_START.fullmatch(word):
        return models.Q(ip_network__startswith=word.lower())
    return models.Q(email__icontains=word)


class SignaturesAreEvidence(Exception):
    """Signatures are never deleted: they are invalidated or withdrawn (and stop counting), and a
    signer's personal data is erased (petitions.moderation.erase_signers) while the counts stay."""


class SignatureQuerySet(models.QuerySet):
    def where_role(self, user, allowed: frozenset[str]) -> SignatureQuerySet:
        """Signatures of petitions in organisations where the user's role is one of `allowed`.
        Filtered on the petitions' ids, which the signatures' indexes start with: a join to the
        organisation would scan every organisation's rows, so one viral petition would slow
        every other organisation's lists."""
        return self.filter(petition__in=petition_ids_where(user, allowed))

    def matching(self, search: str, addresses_in: list[int] | None) -> SignatureQuerySet:
        """Signatures matching every word of a staff search (quoted words stay together). A
        word is looked for in names everywhere, and in addresses and networks only on the
        petitions `addresses_in` (None: on every petition), where the searcher's role may see
        them. Each kind of word goes to an index, so a search costs about the same with a
        million signatures as with a thousand:
        1. a whole address: its canonical form, by the unique (petition, address) index;
        2. the start of a network ("203.0.113.", "2001:db8:"): the network's start;
        3. anything else: inside names and addresses, by the trigram index on PostgreSQL
           (migration 0019); words under three letters cannot use it."""
        queryset = self
        for word in smart_split(search):
            if word[0] in "\"'" and word[-1] == word[0]:
                word = unescape_string_literal(word)
            if not word:
                continue
            match = models.Q(name__icontains=word)
            if addresses_in is None:
                match |= _private_match(word)
            elif addresses_in:
                match |= _private_match(word) & models.Q(petition__in=addresses_in)
            queryset = queryset.filter(match)
        return queryset

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
        PENDING = "pending", gettext_lazy("Pending confirmation")
        CONFIRMED = "confirmed", gettext_lazy("Confirmed")
        INVALIDATED = "invalidated", gettext_lazy("Invalidated")
        WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")

    # Not indexed on its own: the unique (petition, address) and (petition, status, verified_at)
    # indexes start with it, and every index costs each of a viral petition's inserts.
    petition = models.ForeignKey(
        Petition,
        on_delete=models.PROTECT,
        related_name="signatures",
        db_index=False,
        verbose_name=gettext_lazy("petition"),
    )
    # Public identifier used in confirmation links; the primary key is never exposed.
    uuid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=gettext_lazy("uuid")
    )
    name = models.CharField(max_length=200, verbose_name=gettext_lazy("name"))
    email = models.EmailField(
        max_length=254, validators=[validate_signer_email], verbose_name=gettext_lazy("email")
    )
    # What duplicates are detected on: the address lower-cased and stripped.
    email_canonical = models.CharField(
        max_length=254, editable=False, verbose_name=gettext_lazy("email canonical")
    )
    country = CountryField(verbose_name=gettext_lazy("country"))
    city = models.CharField(max_length=100, blank=True, verbose_name=gettext_lazy("city"))
    status = models.CharField(
        max_length=12,
        choices=Status.choices,
        default=Status.PENDING,
        verbose_name=gettext_lazy("status"),
    )
    source = models.CharField(
        max_length=20, default="online", editable=False, verbose_name=gettext_lazy("source")
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=gettext_lazy("created at")
    )
    consented_at = models.DateTimeField(
        default=timezone.now, verbose_name=gettext_lazy("consented at")
    )
    verified_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("verified at")
    )
    # Emails asked for (first signing plus capped re-sends) and emails sent; the requeue task
    # sends what was asked for and never sent.
    confirmations_requested = models.PositiveSmallIntegerField(
        default=1, verbose_name=gettext_lazy("confirmations requested")
    )
    confirmations_sent = models.PositiveSmallIntegerField(
        default=0, verbose_name=gettext_lazy("confirmations sent")
    )
    last_confirmation_sent_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("last confirmation sent at")
    )
    # The network the signature came from (203.0.113.0/24): never the whole address.
    ip_network = models.CharField(
        max_length=43, blank=True, editable=False, verbose_name=gettext_lazy("ip network")
    )
    # Why the signature is held (not counted until staff release it), or "" (services/abuse.py).
    held_reason = models.CharField(
        max_length=100, blank=True, editable=False, verbose_name=gettext_lazy("held reason")
    )
    # When the signer's personal data was erased at their request (moderation.erase_signers); the
    # signature still counts.
    erased_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=gettext_lazy("erased at")
    )
    # The language the signer signed in (one of LANGUAGES): every email to them is written in it.
    language = models.CharField(
        max_length=10, default="en", editable=False, verbose_name=gettext_lazy("language")
    )

    objects = SignatureQuerySet.as_manager()

    # What identifies a signer beyond the name, town and country that the delivered petition
    # lists: only roles that may see signers' addresses see these, in any list, page or lookup.
    PRIVATE_FIELDS = ("email", "email_for_staff", "email_canonical", "ip_network")
    ERASED_NAME = "(erased at the signer's request)"

    class Meta:
        # A context: "signature" alone is also the word after a petition's count (its plural).
        verbose_name = pgettext_lazy("model name", "signature")
        verbose_name_plural = pgettext_lazy("model name", "signatures")
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
            # The dashboard counts held signatures through it; only held rows enter it.
            models.Index(
                fields=["petition"],
                name="signature_held_idx",
                condition=~models.Q(held_reason=""),
            ),
            # On PostgreSQL, migration 0019 adds a trigram index for staff searches
            # (SignatureQuerySet.matching()); SQLite has no such index and scans.
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    def delete(self, *args, **kwargs):
        raise SignaturesAreEvidence("Signatures are evidence: they are never deleted.")

    def email_for_staff(self) -> str:
        return with_idna_domain(self.email)

    email_for_staff.short_description = gettext_lazy("email")
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
