from __future__ import annotations

import functools
import logging
import smtplib
import time
import uuid
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts import audit

from . import counting, delivery, documents, exports, signing
from .emails import Composer, Transmitter, mailbox, templated_email
from .models import Export, Petition, Presentation, Signature, private_storage
from .tokens import make_token

log = logging.getLogger(__name__)


def load_signature(signature_id: int) -> Signature | None:
    return (
        Signature.objects.select_related("petition__campaign__organisation")
        .filter(pk=signature_id)
        .first()
    )


RETRY_SMTP = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
CONFIRMATIONS_DUE_KEY = "confirmations-due"
BATCH = 200


@shared_task(**RETRY_SMTP)
def send_confirmation(signature_id: int) -> str:
    """Send the one email a signature is owed (see deliver_confirmation)."""
    signature = load_signature(signature_id)
    if signature is None:
        return "gone"
    return deliver_confirmation(signature)


@shared_task(bind=True, **RETRY_SMTP)
def send_due_confirmations(self) -> int:
    """Send the emails that signatures are owed, BATCH at a time over one SMTP connection; return
    how many were sent. Queued by signing.queue_confirmations(): one run serves every signature
    made while it waited. A batch is claimed with one conditional update (so runs side by side
    never send an email twice) and its templates are rendered once per petition. A full batch
    queues the next run rather than looping, so that other tasks are not held up behind
    thousands of emails. An address that fails is given back and does not hold up the others;
    the run is retried for it afterwards."""
    cache.delete(CONFIRMATIONS_DUE_KEY)  # signatures from now on queue another run
    if not self.request.is_eager:
        time.sleep(signing.QUEUE_CHECK_SECONDS)  # those made meanwhile may not (see there)
    composer = Composer()
    petitions: dict[int, Petition] = {}
    sent = failed = unmailable = after = 0
    while True:
        rows = list(
            Signature.objects.owed_email()
            .filter(pk__gt=after)
            .only("uuid", "email", "status", "petition_id")
            .order_by("pk")[:BATCH]
        )
        batch = _with_petitions(rows, petitions)
        claimed = _claim([signature.pk for signature in batch])
        if claimed:
            for signature_id, error in _send_claimed(batch, claimed, composer):
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
        if not self.request.is_eager:
            send_due_confirmations.delay()
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


def _send_claimed(batch: list[Signature], claimed: dict, composer: Composer) -> list:
    """Send each claimed signature of the batch its email over one connection; return (signature
    id, None or the exception that stopped its email) for every claimed one, whatever fails (a
    connection that cannot be opened fails them all). Over SMTP, the bytes composed once per
    petition, pipelined (emails.Transmitter); for other mail backends (files, the tests'
    outbox), or a message that wire() cannot compose, the ordinary way."""
    outcomes = []
    try:
        with get_connection() as smtp:
            transmitter = None
            if isinstance(smtp, SMTPBackend) and smtp.connection is not None:
                transmitter = Transmitter(smtp.connection)
            for signature in batch:
                if signature.pk not in claimed:
                    continue  # another run has it
                try:
                    wire = _message(signature, composer, wire=True) if transmitter else None
                    if wire is not None:
                        outcomes += transmitter.send(signature.pk, *wire)
                        continue
                    if transmitter:
                        outcomes += transmitter.finish()  # the connection is used otherwise next
                    _message(signature, composer, smtp).send()
                    outcomes.append((signature.pk, None))
                except Exception as error:
                    outcomes.append((signature.pk, error))
            if transmitter:
                outcomes += transmitter.finish()
    except Exception as error:  # opening, greeting or closing the connection
        settled = {signature_id for signature_id, _ in outcomes}
        outcomes += [(pk, error) for pk in claimed if pk not in settled]
    return outcomes


def _message(signature: Signature, composer: Composer, smtp=None, *, wire: bool = False):
    """The one email a signature is owed: the confirmation link while pending, a note that it
    already counts once confirmed, to its mailbox() (ValidationError for an address that must
    not be mailed). With wire=True: Composer.wire()'s bytes, or None."""
    to = mailbox(signature.email)
    petition = signature.petition
    context = {"petition": petition, "organisation": petition.campaign.organisation}
    if signature.status == Signature.Status.PENDING:
        path = confirm_path(signature.uuid)
        context["confirm_url"] = "link"
        name, key, link = "confirm_signature", (petition.pk, "confirm"), settings.SITE_URL + path
    else:
        context["petition_url"] = settings.SITE_URL + petition.get_absolute_url()
        name, key, link = "already_signed", (petition.pk, "already"), ""
    if wire:
        return composer.wire(name, key, context, to, link)
    return templated_email(composer.render(name, key, context, link), to, smtp)


def confirm_path(signature_uuid: uuid.UUID) -> str:
    """The path of a signature's confirmation link: petitions:confirm with its uuid and token."""
    before, middle, after = _confirm_path_parts()
    return f"{before}{signature_uuid}{middle}{make_token(signature_uuid)}{after}"


@functools.cache
def _confirm_path_parts() -> tuple[str, str, str]:
    """reverse() once, not for each of a batch's emails: the path around its two variables."""
    blank, token = uuid.UUID(int=0), "token"
    path = reverse("petitions:confirm", args=[blank, token])
    before, _, rest = path.partition(str(blank))
    middle, _, after = rest.partition(token)
    return before, middle, after


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
        _message(signature, Composer()).send()
    except ValidationError:
        log.warning("signature %s: its address cannot be mailed; no email sent", signature.pk)
        return "address cannot be mailed"
    except Exception:
        _give_back(signature.pk, sent + 1)
        raise
    return "sent"


@shared_task
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
        send_confirmation.delay(signature_id)
    if ids:
        log.info("requeued %s unsent confirmation emails", len(ids))
    return len(ids)


@shared_task
def requeue_stuck_documents() -> int:
    """Queue again the presentation documents and exports whose task was lost (the broker was
    down, a worker died): see delivery.requeue_stuck_documents."""
    queued = delivery.requeue_stuck_documents()
    if queued:
        log.info("requeued %s stuck presentation documents and exports", queued)
    return queued


def _private_path(folder: str, filename: str) -> tuple[str, Path]:
    """A storage name and the path of a new private file for it (PRIVATE_MEDIA_ROOT)."""
    name = f"{folder}/{filename}"
    return name, private_storage().create(name)


@shared_task
def build_presentation(presentation_id: int) -> str:
    """Build the presentation document from the signatures its record sealed, store it, and
    add its SHA-256 to the record."""
    presentation = (
        Presentation.objects.select_related("petition__campaign__organisation")
        .filter(pk=presentation_id)
        .first()
    )
    if presentation is None:
        return "gone"
    if presentation.status == Presentation.Status.READY:
        return "already built"
    petition = presentation.petition
    name, path = _private_path(
        "presentations", f"{petition.slug}-{presentation.presented_on}-{presentation.pk}.pdf"
    )
    try:
        _listed, digest = documents.presentation_pdf(petition, path, presentation)
    except documents.DocumentMismatch as exc:
        Presentation.objects.filter(pk=presentation.pk).update(
            status=Presentation.Status.FAILED, error=str(exc)
        )
        log.error("presentation %s: %s", presentation.pk, exc)
        return "failed"
    except Exception as exc:
        Presentation.objects.filter(pk=presentation.pk).update(
            status=Presentation.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        log.exception("building the document of presentation %s failed", presentation.pk)
        raise
    # The counts were sealed when it was presented; the document is built to match them.
    Presentation.objects.filter(pk=presentation.pk).update(
        status=Presentation.Status.READY,
        document=name,
        sha256=digest,
        completed_at=timezone.now(),
        error="",
    )
    return "built"


@shared_task
def run_export(export_id: int) -> str:
    """Build a queued export, reporting progress on the Export row as it goes."""
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING
    )
    if not claimed:
        return "another worker got there first"
    export = Export.objects.select_related("petition__campaign__organisation").get(pk=export_id)
    petition = export.petition
    total = petition.signatures.counted().count()
    Export.objects.filter(pk=export.pk).update(rows_total=total)

    def progress(done: int) -> None:
        Export.objects.filter(pk=export.pk).update(rows_done=done)

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name, path = _private_path("exports", f"{petition.slug}-{stamp}-{export.pk}.{export.format}")
    try:
        if export.format == Export.Format.CSV:
            with open(path, "wb") as out:
                rows = exports.write_csv(petition, out, export.include_email, progress)
        else:
            rows, _ = documents.presentation_pdf(petition, path, on_progress=progress)
    except Exception as exc:
        path.unlink(missing_ok=True)  # a part-written list of signers is no use to anyone
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        log.exception("export %s failed", export.pk)
        raise
    Export.objects.filter(pk=export.pk).update(
        status=Export.Status.DONE,
        file=name,
        rows_done=rows,
        rows_total=rows,
        finished_at=timezone.now(),
    )
    audit.record(
        export.requested_by,
        f"{export.format} export",
        petition.campaign.organisation,
        petition,
        rows=rows,
        include_email=export.include_email,
        background=True,
    )
    return "done"


@shared_task
def delete_expired_exports() -> int:
    """Delete export files older than EXPORT_RETENTION_DAYS, each audited (periodic)."""
    return delivery.delete_expired_exports()


@shared_task
def fold_counts(petition_id: int | None = None) -> int:
    """Fold one petition's waiting tallies into its counts, or every petition's (periodic)."""
    if petition_id is None:
        return counting.fold_all()
    return counting.fold(petition_id)


@shared_task
def advance_petitions() -> int:
    """Open scheduled petitions whose opening time has come and close open ones whose closing
    time has passed, each in its own transaction under the counting lock (so that closing waits
    for confirmations in flight), and audited; return how many changed."""
    now = timezone.now()
    moves = [
        (Petition.Status.SCHEDULED, Petition.Status.OPEN, Q(opens_at__lte=now), "opened"),
        (Petition.Status.OPEN, Petition.Status.CLOSED, Q(closes_at__lte=now), "closed"),
    ]
    changed = 0
    for before, after, due, verb in moves:
        for pk in Petition.objects.filter(due, status=before).values_list("pk", flat=True):
            with transaction.atomic():
                counting.lock(pk, exclusive=True)
                moved = Petition.objects.filter(due, pk=pk, status=before).update(
                    status=after, updated_at=now
                )
                if moved:
                    changed += 1
                    petition = Petition.objects.select_related("campaign__organisation").get(pk=pk)
                    audit.record(
                        None, f"petition {verb} on schedule", petition.campaign.organisation,
                        petition,
                    )  # fmt: skip
    return changed


# The hourly recount looks at petitions whose counts changed within twice its interval.
RECOUNT_LOOKBACK = timedelta(hours=2)


@shared_task
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
        before, after = signing.recount(petition)
        repaired += before != after
    return repaired
