from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from .emails import send_templated_email
from .models import Signature
from .tokens import make_token

log = logging.getLogger(__name__)


def load_signature(signature_id: int) -> Signature | None:
    return (
        Signature.objects.select_related("petition__campaign__organisation")
        .filter(pk=signature_id)
        .first()
    )


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_confirmation(signature_id: int) -> str:
    """Send the one email a signature is owed: the confirmation link while pending, a note that
    it already counts once confirmed. Idempotent: it sends only what was asked for and not sent."""
    signature = load_signature(signature_id)
    if signature is None:
        return "gone"
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
    petition = signature.petition
    context = {"petition": petition, "organisation": petition.campaign.organisation}
    try:
        if signature.status == Signature.Status.PENDING:
            path = reverse("petitions:confirm", args=[signature.uuid, make_token(signature.uuid)])
            context["confirm_url"] = settings.SITE_URL + path
            send_templated_email("confirm_signature", signature.email, context)
        else:
            context["petition_url"] = settings.SITE_URL + petition.get_absolute_url()
            send_templated_email("already_signed", signature.email, context)
    except Exception:
        # Give the claim back so that a retry (or the periodic requeue) sends it.
        Signature.objects.filter(pk=signature.pk, confirmations_sent=sent + 1).update(
            confirmations_sent=sent
        )
        log.warning("confirmation email for signature %s failed; will retry", signature.pk)
        raise
    return "sent"


@shared_task
def requeue_unsent_confirmations(limit: int = 1000) -> int:
    """Queue the emails that were asked for but never sent (the broker was down, a worker died)."""
    cutoff = timezone.now() - timedelta(seconds=settings.CONFIRMATION_REQUEUE_AFTER_SECONDS)
    ids = list(
        Signature.objects.filter(
            status__in=[Signature.Status.PENDING, Signature.Status.CONFIRMED],
            confirmations_sent__lt=F("confirmations_requested"),
            created_at__lt=cutoff,
        )
        .filter(Q(last_confirmation_sent_at__isnull=True) | Q(last_confirmation_sent_at__lt=cutoff))
        .values_list("pk", flat=True)[:limit]
    )
    for signature_id in ids:
        send_confirmation.delay(signature_id)
    if ids:
        log.info("requeued %s unsent confirmation emails", len(ids))
    return len(ids)
