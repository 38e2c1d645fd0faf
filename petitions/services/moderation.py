"""Staff changes to signatures: invalidating, withdrawing, restoring, releasing held ones,
resending the confirmation, and erasing a signer's personal data.

Each function takes the signatures selected and `by`, the member of staff acting: it changes only
the signatures of organisations where their role allows it (every one when `by` is None: the
command line and tasks), whatever queryset it was given, so that no admin list, inline or action
can widen it. For each petition it takes the petition's counting lock, leaves a presented
petition's signatures as they were sealed (erasure aside, which keeps the counts), changes the
rows and the counts together (petitions/services/counting.py), and writes the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts import audit, roles
from petitions.mail.confirmations import queue_confirmations
from petitions.models import Petition, Signature, is_sealed
from petitions.services import counting

LIVE = (Signature.Status.PENDING, Signature.Status.CONFIRMED)
TAKEN_OFF = (Signature.Status.INVALIDATED, Signature.Status.WITHDRAWN)


def invalidate_signatures(signatures: QuerySet[Signature], *, by=None) -> int:
    """Mark signatures as invalid (fraud, duplicates found by staff) and take confirmed ones off
    the counts. Returns how many changed."""
    return _moderate(
        signatures, by, roles.WRITE, "invalidated", _taking_off(Signature.Status.INVALIDATED)
    )


def withdraw_signatures(signatures: QuerySet[Signature], *, by=None) -> int:
    """Withdraw signatures at their signers' request and take confirmed ones off the counts.
    Returns how many changed."""
    return _moderate(
        signatures, by, roles.WRITE, "withdrawn", _taking_off(Signature.Status.WITHDRAWN)
    )


def release_signatures(signatures: QuerySet[Signature], *, by=None) -> int:
    """Staff judged held signatures genuine: clear the hold, and count the confirmed ones.
    Returns how many were released."""
    return _moderate(signatures, by, roles.WRITE, "released", _release)


def restore_signatures(signatures: QuerySet[Signature], *, by=None) -> int:
    """Undo invalidations and withdrawals made in error: a signature confirmed before goes back
    to confirmed (and counts again, unless held), one never confirmed back to pending. Returns
    how many were restored."""
    return _moderate(signatures, by, roles.WRITE, "restored", _restore)


def resend_confirmations(signatures: QuerySet[Signature], *, by=None) -> int:
    """Ask for one more confirmation email for each pending signature, within the same cap as
    signing again (CONFIRMATION_EMAILS_MAX); returns how many were asked for."""
    asked = _moderate(signatures, by, roles.WRITE, "sent again", _resend)
    if asked:
        transaction.on_commit(queue_confirmations)
    return asked


def erase_signers(signatures: QuerySet[Signature], *, by=None) -> int:
    """Erase the personal data of signers who asked for it: name, address, town and network.
    The signatures keep counting (their country and dates stay, and presented petitions keep
    their sealed counts), so the counts never change; a signature erased is listed as erased.
    Owners only. Returns how many were erased."""
    return _moderate(signatures, by, roles.ADMINISTER, "erased", _erase, sealed_too=True)


Change = Callable[[int, list[int]], int]


def _moderate(
    signatures: QuerySet[Signature],
    by,
    allowed: frozenset[str],
    done: str,
    change: Change,
    *,
    sealed_too: bool = False,
) -> int:
    """Apply change(petition id, signature ids) to the signatures `by` may change, petition by
    petition under its counting lock, skipping presented petitions unless sealed_too, and audit
    each petition's change; return how many signatures changed."""
    if by is not None:
        signatures = signatures.where_role(by, allowed)
    by_petition: dict[int, list[int]] = defaultdict(list)
    for pk, petition_id in signatures.order_by().values_list("pk", "petition_id"):
        by_petition[petition_id].append(pk)
    petitions = Petition.objects.select_related("campaign__organisation").in_bulk(by_petition)
    changed = 0
    with transaction.atomic():
        for petition_id, ids in by_petition.items():
            counting.lock(petition_id)
            if not sealed_too and is_sealed(petition_id):
                continue  # what was presented, and its counts, stay as they were sealed
            n = change(petition_id, ids)
            changed += n
            petition = petitions[petition_id]
            audit.record(
                by,
                f"signatures {done}",
                petition.campaign.organisation,
                petition,
                selected=len(ids),
                changed=n,
            )
    return changed


def _taking_off(status: str) -> Change:
    def take_off(petition_id: int, ids: list[int]) -> int:
        locked = Signature.objects.select_for_update().filter(pk__in=ids, status__in=LIVE)
        rows = list(locked.values_list("pk", "status", "country", "verified_at", "held_reason"))
        Signature.objects.filter(pk__in=[row[0] for row in rows]).update(status=status)
        counted = [
            (country, verified_at, -1)
            for _, was, country, verified_at, held in rows
            if was == Signature.Status.CONFIRMED and not held
        ]
        if counted:
            counting.add(petition_id, counted)
        return len(rows)

    return take_off


def _release(petition_id: int, ids: list[int]) -> int:
    locked = Signature.objects.select_for_update().filter(pk__in=ids).exclude(held_reason="")
    rows = list(locked.values_list("pk", "status", "country", "verified_at"))
    Signature.objects.filter(pk__in=[row[0] for row in rows]).update(held_reason="")
    counted = [
        (country, verified_at, 1)
        for _, status, country, verified_at in rows
        if status == Signature.Status.CONFIRMED
    ]
    if counted:
        counting.add(petition_id, counted)
    return len(rows)


def _restore(petition_id: int, ids: list[int]) -> int:
    rows = list(
        Signature.objects.select_for_update()
        .filter(pk__in=ids, status__in=TAKEN_OFF)
        .values_list("pk", "verified_at", "country", "held_reason")
    )
    confirmed = [row for row in rows if row[1] is not None]
    Signature.objects.filter(pk__in=[row[0] for row in confirmed]).update(
        status=Signature.Status.CONFIRMED
    )
    Signature.objects.filter(pk__in=[row[0] for row in rows if row[1] is None]).update(
        status=Signature.Status.PENDING
    )
    counted = [(country, when, 1) for _, when, country, held in confirmed if not held]
    if counted:
        counting.add(petition_id, counted)
    return len(rows)


def _resend(petition_id: int, ids: list[int]) -> int:
    return (
        Signature.objects.filter(
            pk__in=ids,
            status=Signature.Status.PENDING,
            confirmations_requested__lt=settings.CONFIRMATION_EMAILS_MAX,
        )
        .exclude(held_reason="honeypot")  # a bot gets no email
        .filter(erased_at=None)
        .update(confirmations_requested=F("confirmations_requested") + 1)
    )


def _erase(petition_id: int, ids: list[int]) -> int:
    """One UPDATE per signature: each keeps a placeholder address of its own, since the
    (petition, address) pair is unique. A block rule's reason may name the signer's address."""
    rows = list(
        Signature.objects.select_for_update()
        .filter(pk__in=ids, erased_at=None)
        .values_list("pk", "uuid", "held_reason")
    )
    now = timezone.now()
    for pk, uuid, held_reason in rows:
        if held_reason.startswith("blocked"):
            held_reason = "blocked by a rule (erased)"
        Signature.objects.filter(pk=pk).update(
            name=Signature.ERASED_NAME,
            email="",
            email_canonical=f"erased:{uuid}",
            city="",
            ip_network="",
            held_reason=held_reason,
            confirmations_requested=F("confirmations_sent"),  # nothing more is sent
            erased_at=now,
        )
    return len(rows)
