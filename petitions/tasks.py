"""The Celery tasks: each runs one service function, which is where the work is (docs/
architecture.md, "Layers"). Services queue them with config.celery.queue(service, *args); the
periodic ones are scheduled in settings.CELERY_BEAT_SCHEDULE. Tasks take ids, and every service
here is safe to run twice."""

from __future__ import annotations

import logging
import smtplib

from config.celery import task
from petitions.mail import confirmations
from petitions.services import counting, exporting, presenting, retention, schedule, signing

log = logging.getLogger(__name__)

# Sending mail fails for a while (the relay is down, greylisting): retried with backoff.
RETRY_SMTP = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@task(confirmations.send_confirmation, **RETRY_SMTP)
def send_confirmation(signature_id: int) -> str:
    return confirmations.send_confirmation(signature_id)


@task(confirmations.send_due_confirmations, bind=True, **RETRY_SMTP)
def send_due_confirmations(self) -> int:
    return confirmations.send_due_confirmations(in_worker=not self.request.is_eager)


@task(confirmations.requeue_unsent_confirmations)
def requeue_unsent_confirmations(limit: int = 1000) -> int:
    return confirmations.requeue_unsent_confirmations(limit)


@task(presenting.requeue_stuck_documents)
def requeue_stuck_documents() -> int:
    queued = presenting.requeue_stuck_documents()
    if queued:
        log.info("requeued %s stuck presentation documents and exports", queued)
    return queued


@task(presenting.build_presentation)
def build_presentation(presentation_id: int) -> str:
    return presenting.build_presentation(presentation_id)


@task(exporting.run_export)
def run_export(export_id: int) -> str:
    return exporting.run_export(export_id)


@task(retention.delete_expired_exports)
def delete_expired_exports() -> int:
    return retention.delete_expired_exports()


@task(counting.fold)
def fold_counts(petition_id: int | None = None) -> int:
    """One petition's waiting tallies, or (periodic, no petition) every petition's."""
    if petition_id is None:
        return counting.fold_all()
    return counting.fold(petition_id)


@task(schedule.advance_petitions)
def advance_petitions() -> int:
    return schedule.advance_petitions()


@task(signing.recount_petitions)
def recount_petitions() -> int:
    return signing.recount_petitions()
