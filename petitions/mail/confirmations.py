"""The confirmation emails: each signature is owed one (the link while pending, a note that it
already counts once confirmed) and gets it once, batched over one mail connection per run."""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from config import memos
from config.celery import app, queue
from petitions.mail.compose import mailbox, templated_email
from petitions.models import Petition, Signature
from petitions.tokens import make_token

log = logging.getLogger(__name__)

CONFIRMATIONS_DUE_KEY = "confirmations-due"
BATCH = 200


# A process that has just found a run of send_due_confirmations on its way does not ask the
# cache again for as long as config.memos.CONFIRMATIONS_QUEUED keeps that (a viral petition's
# sign POSTs would each pay a round trip for the answer "yes, queued"). The run waits as long
# after clearing its cache key before it looks for emails owed, so a signature whose process
# did not ask is still found by that run.
QUEUED = memos.CONFIRMATIONS_QUEUED


def queue_confirmations() -> None:
    """Make sure a run of send_due_confirmations is on its way. The first signature since the
    last run queues one, CONFIRMATION_BATCH_DELAY_MS later, which sends the emails of every
    signature made meanwhile over one SMTP connection; the others only find the cache key set.
    A broker or cache that is down does not fail the request (config.cache, config.celery):
    the row is saved, and the next run, or requeue_unsent_confirmations, sends its email."""
    if QUEUED.fresh("run"):
        return
    delay = settings.CONFIRMATION_BATCH_DELAY_MS / 1000
    if cache.add(CONFIRMATIONS_DUE_KEY, True, timeout=60) and not queue(
        send_due_confirmations, countdown=delay
    ):
        cache.delete(CONFIRMATIONS_DUE_KEY)  # a signature a moment later tries again
    if not app.conf.task_always_eager:  # eager: it has run already
        QUEUED.keep("run")


def load_signature(signature_id: int) -> Signature | None:
    return (
        Signature.objects.select_related("petition__campaign__organisation")
        .filter(pk=signature_id)
        .first()
    )


def send_confirmation(signature_id: int) -> str:
    """Send the one email a signature is owed (see deliver_confirmation)."""
    signature = load_signature(signature_id)
    if signature is None:
        return "gone"
    return deliver_confirmation(signature)


def send_due_confirmations(*, in_worker: bool = True) -> int:
    """Send the emails that signatures are owed, BATCH at a time over one mail connection; return
    how many were sent. Queued by signing.queue_confirmations(): one run serves every signature
    made while it waited. A batch is claimed with one conditional update (so runs side by side
    never send an email twice). A full batch queues the next run rather than looping, so that
    other tasks are not held up behind thousands of emails. An address that fails is given back
    and does not hold up the others; the run is retried for it afterwards."""
    cache.delete(CONFIRMATIONS_DUE_KEY)  # signatures from now on queue another run
    if in_worker:
        time.sleep(QUEUED.seconds)  # those made meanwhile may not (see there)
    petitions: dict[int, Petition] = {}
    sent = failed = unmailable = after = 0
    while True:
        rows = list(
            Signature.objects.owed_email()
            .filter(pk__gt=after)
            .only("uuid", "email", "status", "petition_id", "language")
            .order_by("pk")[:BATCH]
        )
        batch = _with_petitions(rows, petitions)
        claimed = _claim([signature.pk for signature in batch])
        if claimed:
            for signature_id, error in _send_claimed(batch, claimed):
                if error is None:
                    sent += 1
                elif isinstance(error, ValidationError):
                    unmailable += 1  # its claim is kept: never tried again
                else:
                    failed += 1
                    _give_back(signature_id, claimed[signature_id])
        if len(rows) < BATCH:
            break
        after = rows[-1].pk
        if in_worker:
            queue(send_due_confirmations)
            break
    if unmailable:
        log.warning("%s confirmation emails not sent: their addresses cannot be mailed", unmailable)
    if failed:
        raise smtplib.SMTPException(f"{failed} confirmation emails failed; retrying")
    return sent


def _with_petitions(signatures: list[Signature], petitions: dict[int, Petition]) -> list:
    """The signatures, each given its petition (with campaign and organisation), read once per
    run rather than joined into every row: a run's emails are nearly all for one petition. (A
    petition deleted meanwhile took its signatures with it: they are left out.)"""
    missing = {s.petition_id for s in signatures} - petitions.keys()
    if missing:
        petitions.update(Petition.objects.select_related("campaign__organisation").in_bulk(missing))
    kept = []
    for signature in signatures:
        if signature.petition_id in petitions:
            signature.petition = petitions[signature.petition_id]
            kept.append(signature)
    return kept


def _claim(ids: list[int]) -> dict[int, int]:
    """Count one more email sent for each signature still owed one; {id: emails sent now}."""
    if not ids:
        return {}
    q = connection.ops.quote_name
    table = q(Signature._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET confirmations_sent = confirmations_sent + 1, "  # noqa: S608 - model names
            f"last_confirmation_sent_at = %s WHERE id IN ({', '.join(['%s'] * len(ids))}) "
            "AND confirmations_sent < confirmations_requested AND status IN (%s, %s) "
            "RETURNING id, confirmations_sent",
            [timezone.now(), *ids, Signature.Status.PENDING, Signature.Status.CONFIRMED],
        )
        return dict(cursor.fetchall())


def _give_back(signature_id: int, claimed: int) -> None:
    """Undo a claim whose email failed, so that a retry (or the periodic requeue) sends it."""
    Signature.objects.filter(pk=signature_id, confirmations_sent=claimed).update(
        confirmations_sent=claimed - 1
    )
    log.warning("confirmation email for signature %s failed; will retry", signature_id)


def _send_claimed(batch: list[Signature], claimed: dict) -> list:
    """Send each claimed signature of the batch its email over one connection of the mail
    backend; return (signature id, None or the exception that stopped its email) for every
    claimed one. An email that fails does not stop the next; a connection that cannot be opened
    fails them all (once one is lost, each email after it fails at once)."""
    outcomes = []
    try:
        with get_connection() as mail_connection:
            for signature in batch:
                if signature.pk not in claimed:
                    continue  # another run has it
                try:
                    _message(signature, mail_connection).send()
                except Exception as error:
                    outcomes.append((signature.pk, error))
                else:
                    outcomes.append((signature.pk, None))
    except Exception as error:  # opening or closing the connection
        settled = {signature_id for signature_id, _ in outcomes}
        outcomes += [(pk, error) for pk in claimed if pk not in settled]
    return outcomes


def _message(signature: Signature, mail_connection=None) -> EmailMultiAlternatives:
    """The one email a signature is owed: the confirmation link while pending, a note that it
    already counts once confirmed, to its mailbox() (ValidationError for an address that must
    not be mailed), in the language it was signed in, its links to pages in that language."""
    petition = signature.petition
    context = {"petition": petition, "organisation": petition.campaign.organisation}
    with translation.override(signature.language):
        if signature.status == Signature.Status.PENDING:
            name = "confirm_signature"
            context["confirm_url"] = settings.SITE_URL + confirm_path(signature.uuid)
        else:
            name = "already_signed"
            context["petition_url"] = settings.SITE_URL + petition.get_absolute_url()
        return templated_email(name, context, mailbox(signature.email), mail_connection)


def confirm_path(signature_uuid: uuid.UUID) -> str:
    """The path of a signature's confirmation link: petitions:confirm with its uuid and token."""
    return reverse("petitions:confirm", args=[signature_uuid, make_token(signature_uuid)])


def deliver_confirmation(signature: Signature) -> str:
    """Send the one email a signature is owed, once: claimed with a conditional update so that
    two workers never send the same email, and given back if sending fails (but not for an
    address that cannot be mailed: that would be tried again for ever)."""
    if signature.status not in (Signature.Status.PENDING, Signature.Status.CONFIRMED):
        return "not needed"
    sent = signature.confirmations_sent
    if sent >= signature.confirmations_requested:
        return "already sent"
    claimed = Signature.objects.filter(pk=signature.pk, confirmations_sent=sent).update(
        confirmations_sent=sent + 1, last_confirmation_sent_at=timezone.now()
    )
    if not claimed:
        return "another worker got there first"
    try:
        _message(signature).send()
    except ValidationError:
        log.warning("signature %s: its address cannot be mailed; no email sent", signature.pk)
        return "address cannot be mailed"
    except Exception:
        _give_back(signature.pk, sent + 1)
        raise
    return "sent"


def requeue_unsent_confirmations(limit: int = 1000) -> int:
    """Queue the emails that were asked for but never sent (the broker was down, a worker died)."""
    cutoff = timezone.now() - timedelta(seconds=settings.CONFIRMATION_REQUEUE_AFTER_SECONDS)
    ids = list(
        Signature.objects.owed_email()
        .filter(created_at__lt=cutoff)
        .filter(Q(last_confirmation_sent_at__isnull=True) | Q(last_confirmation_sent_at__lt=cutoff))
        .values_list("pk", flat=True)[:limit]
    )
    for signature_id in ids:
        queue(send_confirmation, signature_id)
    if ids:
        log.info("requeued %s unsent confirmation emails", len(ids))
    return len(ids)
