from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import audit
from petitions.models import Export


def delete_expired_exports() -> int:
    """Delete the file of every export built more than EXPORT_RETENTION_DAYS ago; return how
    many. Each is claimed with a conditional update (another run skips it), marked deleted so
    that the admin says what became of it, and audited, without any signer's data. Presentation
    documents are the sealed record of what was delivered: they are kept."""
    cutoff = timezone.now() - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    expired = Export.objects.filter(status=Export.Status.DONE, finished_at__lt=cutoff)
    deleted = 0
    for export in expired.select_related("petition__campaign__organisation"):
        with transaction.atomic():
            claimed = Export.objects.filter(pk=export.pk, status=Export.Status.DONE).update(
                status=Export.Status.DELETED, file=""
            )
            if not claimed:
                continue  # another run got there first
            if export.file.name:
                export.file.storage.delete(export.file.name)  # gone already: nothing to do
            audit.record(
                None,
                "export file deleted",
                export.petition.campaign.organisation,
                export.petition,
                export=export.pk,
                format=export.format,
                include_email=export.include_email,
                finished_at=export.finished_at.isoformat(),
                retention_days=settings.EXPORT_RETENTION_DAYS,
            )
        deleted += 1
    return deleted
