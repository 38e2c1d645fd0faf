"""State changes for delivering a petition: paper signatures, presenting it, staff exports.
Each runs in one transaction and is the only place that queues the matching Celery task.

A document whose task was lost (the broker was down when it was queued, a worker died) is
queued again by the periodic requeue_stuck_documents, and staff may build a presentation's
document again from the admin (rebuild_presentation)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts import audit
from config.celery import queue
from petitions.documents import pdf
from petitions.models import Export, Petition, Presentation, private_storage
from petitions.services import counting
from petitions.services.exporting import queue_export

log = logging.getLogger(__name__)


class AlreadyPresented(Exception):
    pass


class InvalidPresentation(ValueError):
    """The presentation as given cannot have happened; the message says why, for staff."""


def present_petition(
    petition: Petition,
    *,
    presented_on: date,
    place: str,
    recipient: str,
    presented_by: str,
    user=None,
) -> Presentation:
    """Close signing, seal the counts in a presentation record, and build its document after
    commit.

    1. Hold the counting lock exclusively: no confirmation or moderation counts meanwhile, and
       confirm() reads the status under that lock, so none counts after this commits.
    2. Refuse a date before the petition opened or before signing closed (now, unless it had
       closed already), or after today.
    3. Fold the waiting tallies and set the kept counts from the counted rows (so they are
       exact), close signing and record the presentation with those counts and a random seal
       (Presentation.seal). From then on nothing changes what was sealed (Petition.save(),
       petitions/services/moderation.py), so the document built from the rows lists exactly them."""
    with transaction.atomic():
        counting.lock(petition.pk, exclusive=True)
        locked = (
            Petition.objects.select_for_update()
            .select_related("campaign__organisation")
            .get(pk=petition.pk)
        )
        if locked.is_sealed:
            raise AlreadyPresented(_("%(petition)s was already presented.") % {"petition": locked})
        now = timezone.now()
        closes_at = locked.closes_at if locked.closes_at and locked.closes_at < now else now
        _check_date(locked, presented_on, closes_at)
        counting.fold(locked.pk)
        _online_before, online = counting.rebuild(locked)
        locked.refresh_from_db(fields=["signature_count", "paper_count"])
        Petition.objects.filter(pk=locked.pk).update(
            status=Petition.Status.PRESENTED, closes_at=closes_at, updated_at=now
        )
        presentation = Presentation.objects.create(
            petition=locked,
            presented_on=presented_on,
            place=place,
            recipient=recipient,
            presented_by=presented_by,
            online_count=online,
            paper_count=locked.paper_count,
            total_count=online + locked.paper_count,
            created_by=user,
        )
        audit.record(
            user,
            "petition presented",
            locked.campaign.organisation,
            locked,
            presentation=presentation.pk,
            place=place,
            recipient=recipient,
            total=presentation.total_count,
        )
        transaction.on_commit(partial(_build, presentation.pk))
    petition.refresh_from_db()
    return presentation


def _check_date(petition: Petition, presented_on: date, closes_at) -> None:
    opened = timezone.localdate(petition.opens_at or petition.created_at)
    closed = timezone.localdate(closes_at)
    today = timezone.localdate()
    if presented_on < opened:
        raise InvalidPresentation(
            _("The petition opened on %(date)s: it cannot have been presented before.")
            % {"date": date_format(opened, "DATE_FORMAT")}
        )
    if presented_on < closed:
        if closed >= today:
            message = _(
                "It was still taking signatures then (signing closes today): give the date it "
                "was handed over, after signing closed."
            )
        else:
            message = _(
                "It was still taking signatures then (signing closed on %(date)s): give the date "
                "it was handed over, after signing closed."
            ) % {"date": date_format(closed, "DATE_FORMAT")}
        raise InvalidPresentation(message)
    if presented_on > today + timedelta(days=1):
        raise InvalidPresentation(_("Record a presentation once it has happened, not before."))


# A document asked for this long ago and still not built has lost its task: queued while the
# broker was down, or taken by a worker that died. (A presentation's whole document, 100,000
# names, takes about 15 s to build.)
STUCK_MINUTES = 5


class NotRebuilt(Exception):
    """The presentation's document is built, or still being built: the message says which."""


def rebuild_presentation(presentation: Presentation, *, user=None) -> None:
    """Build a presentation's document again: one that failed, or one still building
    STUCK_MINUTES after it was presented. Its status goes back to building, audited, and the
    build is queued after commit (build_presentation is safe to run twice)."""
    with transaction.atomic():
        locked = (
            Presentation.objects.select_for_update()
            .select_related("petition__campaign__organisation")
            .get(pk=presentation.pk)
        )
        if locked.status == Presentation.Status.READY:
            raise NotRebuilt(_("The document is built already."))
        if not rebuildable(locked):
            raise NotRebuilt(
                _(
                    "The document is still being built. If it is not ready %(minutes)d minutes "
                    "after presenting, build it again."
                )
                % {"minutes": STUCK_MINUTES}
            )
        Presentation.objects.filter(pk=locked.pk).update(
            status=Presentation.Status.BUILDING, error=""
        )
        audit.record(
            user,
            "presentation build retried",
            locked.petition.campaign.organisation,
            locked.petition,
            presentation=locked.pk,
            was=locked.status,
        )
        transaction.on_commit(partial(_build, locked.pk))
    presentation.refresh_from_db()


def rebuildable(presentation: Presentation) -> bool:
    """Whether rebuild_presentation() builds this presentation's document again."""
    return presentation.status == Presentation.Status.FAILED or (
        presentation.status == Presentation.Status.BUILDING
        and presentation.created_at < _stuck_since()
    )


def _stuck_since() -> datetime:
    """A document asked for before this and still not done has lost its task."""
    return timezone.now() - timedelta(minutes=STUCK_MINUTES)


def requeue_stuck_documents() -> int:
    """Queue again every presentation still building and every export still queued
    STUCK_MINUTES after it was asked for; return how many were queued. Both tasks are safe to
    run twice: a built presentation is left as it is, and an export is claimed before it runs."""
    stuck = _stuck_since()
    presentations = Presentation.objects.filter(
        status=Presentation.Status.BUILDING, created_at__lt=stuck
    )
    exports = Export.objects.filter(status=Export.Status.QUEUED, created_at__lt=stuck)
    queued = sum(_build(pk) for pk in presentations.values_list("pk", flat=True))
    queued += sum(queue_export(pk) for pk in exports.values_list("pk", flat=True))
    return queued


def _build(presentation_id: int) -> bool:
    return queue(build_presentation, presentation_id)


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
    name = f"presentations/{petition.slug}-{presentation.presented_on}-{presentation.pk}.pdf"
    path = private_storage().create(name)
    try:
        _listed, digest = pdf.presentation_pdf(petition, path, presentation)
    except pdf.DocumentMismatch as exc:
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
