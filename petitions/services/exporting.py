from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from accounts import audit
from config.celery import queue
from petitions.documents import csv_file, pdf
from petitions.models import Export, Petition, private_storage

log = logging.getLogger(__name__)


def request_export(petition: Petition, *, format: str, include_email: bool, user=None) -> Export:
    """Queue an export to be built by Celery; staff download it when it is done."""
    with transaction.atomic():
        export = Export.objects.create(
            petition=petition,
            format=format,
            include_email=include_email and format == Export.Format.CSV,
            requested_by=user,
        )
        transaction.on_commit(partial(queue_export, export.pk))
    return export


def queue_export(export_id: int) -> bool:
    return queue(run_export, export_id)


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
    name = f"exports/{petition.slug}-{stamp}-{export.pk}.{export.format}"
    path = private_storage().create(name)
    try:
        if export.format == Export.Format.CSV:
            with open(path, "wb") as out:
                rows = csv_file.write_csv(petition, out, export.include_email, progress)
        else:
            rows, _ = pdf.presentation_pdf(petition, path, on_progress=progress)
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
