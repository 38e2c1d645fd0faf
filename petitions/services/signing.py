"""State changes on the signing path: signing and confirming. Each change is atomic (one
statement, or one transaction holding the petition's counting lock), keeps the counts through
tallies (services/counting.py), and queues confirmation emails only on commit. Staff changes
to signatures are in petitions/services/moderation.py."""

from __future__ import annotations

import enum
import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, Q
from django.utils import timezone

from petitions.mail.confirmations import queue_confirmations
from petitions.models import Petition, Signature, validate_signer_email
from petitions.services import counting

log = logging.getLogger(__name__)


class PetitionClosed(Exception):
    """The petition does not take signatures now; the message says why, for supporters."""


class Confirmation(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already confirmed"
    NOT_COUNTED = "not counted"  # invalidated or withdrawn by staff
    PETITION_CLOSED = "petition closed"


def sign(
    petition: Petition,
    *,
    name: str,
    email: str,
    country: str,
    city: str = "",
    ip_network: str = "",
    held_reason: str = "",
    send_email: bool = True,
    language: str = settings.LANGUAGE_CODE,
) -> None:
    """Record a signature and ask for the email that confirms it.

    1. Refuse when the petition does not take signatures now, or an address that must not be
       mailed (ValidationError, models.validate_signer_email).
    2. Insert a pending signature. The unique (petition, canonical address) constraint decides
       races between two requests for the same address.
    3. If the address has signed already, insert nothing; ask for one more email (capped):
       the confirmation link again while pending, an "already counted" note once confirmed.
    4. Queue that email when the transaction commits.
    No email is asked for at all for the honeypot (a bot gets none) or with send_email False
    (beyond an email cap, petitions/services/abuse.py): the signature is saved owing none, so the
    periodic requeue never sends one; staff may resend it from the admin. Emails to the signer
    are written in the language they signed in (language). The caller learns
    nothing about which case happened, so neither does a stranger. A held signature
    (held_reason) is saved and confirmed like any other but not counted until staff release it.
    """
    if not petition.is_accepting_signatures:
        raise PetitionClosed(petition.closed_reason)
    email = email.strip()
    validate_signer_email(email)
    canonical = Signature.canonical_email(email)
    now = timezone.now()
    signature = Signature(
        petition=petition,
        name=name,
        email=email,
        email_canonical=canonical,
        country=country,
        city=city,
        created_at=now,
        consented_at=now,
        ip_network=ip_network,
        held_reason=held_reason,
        language=language,
    )
    emailed = send_email and held_reason != "honeypot"
    if not emailed:
        signature.confirmations_requested = 0
    inserted = _insert_unless_signed(signature)
    if emailed and (inserted or _request_another_email(petition, canonical)):
        transaction.on_commit(queue_confirmations)


def _insert_unless_signed(signature: Signature) -> bool:
    """Insert the signature unless its address has signed the petition; whether it was inserted.

    One INSERT … ON CONFLICT (petition, canonical address) DO NOTHING RETURNING id, with no
    transaction or savepoint around it: the unique constraint decides a race between two
    requests for one address, and the one that gets no row back has signed already. Its values
    are prepared as Model.save() prepares them. (bulk_create(ignore_conflicts=True) does not say
    whether it inserted the row, opens a transaction around it, and on SQLite is INSERT OR
    IGNORE, which would pass over any other constraint the row broke too.)"""
    fields = [field for field in Signature._meta.concrete_fields if not field.primary_key]
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(Signature._meta.db_table)} "  # noqa: S608 - model names
        f"({', '.join(q(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({q('petition_id')}, {q('email_canonical')}) DO NOTHING RETURNING {q('id')}"
    )
    values = [
        field.get_db_prep_save(field.pre_save(signature, add=True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchone() is not None


def _request_another_email(petition: Petition, canonical: str) -> bool:
    """Ask for one more email to an address that has signed, up to CONFIRMATION_EMAILS_MAX,
    unless its signature was withdrawn or invalidated; whether one was asked for."""
    asked = Signature.objects.filter(
        petition=petition,
        email_canonical=canonical,
        status__in=[Signature.Status.PENDING, Signature.Status.CONFIRMED],
        confirmations_requested__lt=settings.CONFIRMATION_EMAILS_MAX,
    ).update(confirmations_requested=F("confirmations_requested") + 1)
    return bool(asked)


def confirm(signature: Signature) -> Confirmation:
    """Confirm a pending signature and count it, exactly once however often it is called, and
    never after signing has closed: present_petition() holds the counting lock exclusively while
    it closes signing, so the petition's status seen here under the shared lock is the one that
    holds. Only signature.pk and petition_id are read.

    1. One conditional update: pending, and its petition accepting signatures now. Only the
       request whose update changed the row goes on; the others ask why, after the transaction.
    2. Read the row's country and hold (ours: the update locked it until the commit), and count
       it with a tally unless it is held.

    The petition's condition is EXISTS (…), not petition_id IN (…): with petition_id = … beside
    id = …, PostgreSQL may choose the (petition, status) index over the primary key, and then
    each confirmation reads every pending signature of a viral petition."""
    with transaction.atomic():
        counting.lock(signature.petition_id)
        now = timezone.now()
        accepting = Petition.objects.filter(pk=signature.petition_id).accepting_signatures(now)
        changed = Signature.objects.filter(
            Exists(accepting), pk=signature.pk, status=Signature.Status.PENDING
        ).update(status=Signature.Status.CONFIRMED, verified_at=now)
        if changed:
            country, held_reason = Signature.objects.values_list("country", "held_reason").get(
                pk=signature.pk
            )
            if not held_reason:  # a held signature counts when staff release it
                counting.add(signature.petition_id, [(country, now, 1)])
            return Confirmation.CONFIRMED
    current = Signature.objects.values_list("status", flat=True).get(pk=signature.pk)
    if current == Signature.Status.CONFIRMED:
        return Confirmation.ALREADY_CONFIRMED
    if current != Signature.Status.PENDING:
        return Confirmation.NOT_COUNTED
    return Confirmation.PETITION_CLOSED


def recount(petition: Petition) -> tuple[int, int]:
    """Rebuild the kept counts from the counted rows, logging drift; return (before, after)."""
    before, after = counting.rebuild(petition)
    if before != after:
        log.warning("petition %s count drifted: %s -> %s", petition.pk, before, after)
    return before, after


# The hourly recount looks at petitions whose counts changed within twice its interval.
RECOUNT_LOOKBACK = timedelta(hours=2)


def recount_petitions() -> int:
    """Rebuild the kept counts of every petition whose counts can have changed since the last
    run (open ones, and others with a fold since) from their counted rows, logging and
    repairing any drift; presented petitions' counts are sealed. Return how many were repaired."""
    since = timezone.now() - RECOUNT_LOOKBACK
    changing = Petition.objects.unsealed().filter(
        Q(status=Petition.Status.OPEN) | Q(counts_changed_at__gte=since)
    )
    repaired = 0
    for petition in changing.only("pk"):
        before, after = recount(petition)
        repaired += before != after
    return repaired
