from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Sum
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from accounts import audit
from config.private_files import FILE_MODE, FOLDER_MODE, private_file, private_folder
from petitions.models.petitions import Petition, SealedWithThePetition


class PrivateStorage(FileSystemStorage):
    """Documents with signers' names: kept under PRIVATE_MEDIA_ROOT, outside any public URL,
    served only through staff views that check access, readable by this user only (0600 files,
    0700 folders: config/private_files.py). The folder is read from the settings each time, so
    that tasks writing and views reading always agree."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=FILE_MODE, directory_permissions_mode=FOLDER_MODE)

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def create(self, name: str) -> Path:
        """An empty private file for `name`, its folders private up to the root, for a task
        that writes a document into it by path."""
        path = Path(self.path(name))
        private_folder(path.parent, root=Path(self.location))
        return private_file(path)


def private_storage() -> FileSystemStorage:
    return PrivateStorage()


class PaperBatch(SealedWithThePetition):
    """Signatures collected on paper (at a march, a vigil, a stall), counted in the total."""

    petition = models.ForeignKey(
        Petition,
        on_delete=models.PROTECT,
        related_name="paper_batches",
        verbose_name=_("petition"),
    )
    count = models.PositiveIntegerField(validators=[MinValueValidator(1)], verbose_name=_("count"))
    received_on = models.DateField(verbose_name=_("received on"))
    location = models.CharField(
        max_length=200,
        help_text=_("Where they were collected."),
        verbose_name=_("location"),
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["received_on", "pk"]
        verbose_name_plural = _("paper batches")

    def __str__(self) -> str:
        return f"{self.count} on paper from {self.location} ({self.received_on})"


def count_paper(petition: Petition) -> int:
    """Set the petition's paper count from its batches, under the petition row's lock."""
    with transaction.atomic():
        Petition.objects.select_for_update().filter(pk=petition.pk).exists()
        total = PaperBatch.objects.filter(petition=petition).aggregate(total=Sum("count"))
        total = total["total"] or 0
        Petition.objects.filter(pk=petition.pk).update(paper_count=total)
    petition.paper_count = total
    return total


@receiver(post_save, sender=PaperBatch)
def paper_batch_saved(sender, instance: PaperBatch, created: bool, **kwargs) -> None:
    """Whatever saves a batch (the admin's inline, a service, the shell) counts it and logs it."""
    _paper_changed(instance, "paper batch recorded" if created else "paper batch changed")


@receiver(post_delete, sender=PaperBatch)
def paper_batch_deleted(sender, instance: PaperBatch, **kwargs) -> None:
    _paper_changed(instance, "paper batch removed")


def _paper_changed(batch: PaperBatch, action: str) -> None:
    petition = batch.petition
    paper_count = count_paper(petition)
    audit.record(
        audit.current_actor(),
        action,
        petition.campaign.organisation,
        petition,
        count=batch.count,
        location=batch.location,
        paper_count=paper_count,
    )


def new_seal() -> str:
    return secrets.token_hex(16)


class Presentation(models.Model):
    """What was handed over, when, where and to whom, with the document's fingerprint."""

    class Status(models.TextChoices):
        BUILDING = "building", _("Building the document")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    petition = models.ForeignKey(
        Petition,
        on_delete=models.PROTECT,
        related_name="presentations",
        verbose_name=_("petition"),
    )
    presented_on = models.DateField(verbose_name=_("presented on"))
    place = models.CharField(
        max_length=200,
        help_text=_("e.g. the Chinese Embassy, London"),
        verbose_name=_("place"),
    )
    recipient = models.CharField(
        max_length=200,
        help_text=_("Who received the petition."),
        verbose_name=_("recipient"),
    )
    presented_by = models.CharField(
        max_length=200,
        help_text=_("Who handed it over."),
        verbose_name=_("presented by"),
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.BUILDING,
        verbose_name=_("status"),
    )
    document = models.FileField(
        storage=private_storage,
        upload_to="presentations/",
        blank=True,
        verbose_name=_("document"),
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # A random value printed in the document and kept here, never shown publicly: without it, a
    # guess at a small petition's signers cannot be checked against the published SHA-256, and
    # with it the document can be rebuilt byte for byte.
    seal = models.CharField(max_length=32, default=new_seal, editable=False, verbose_name=_("seal"))
    online_count = models.PositiveIntegerField(default=0, verbose_name=_("online count"))
    paper_count = models.PositiveIntegerField(default=0, verbose_name=_("paper count"))
    total_count = models.PositiveIntegerField(default=0, verbose_name=_("total count"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name = _("presentation")
        verbose_name_plural = _("presentations")
        ordering = ["-presented_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.petition} presented {self.presented_on} at {self.place}"


class Export(models.Model):
    """A staff export too large to build in a request: built by Celery, downloaded when done."""

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        PDF = "pdf", _("PDF (presentation document)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        DELETED = "deleted", _("File deleted")

    petition = models.ForeignKey(
        Petition,
        on_delete=models.CASCADE,
        related_name="exports",
        verbose_name=_("petition"),
    )
    format = models.CharField(max_length=3, choices=Format.choices, verbose_name=_("format"))
    include_email = models.BooleanField(default=False, verbose_name=_("include email"))
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.QUEUED,
        verbose_name=_("status"),
    )
    rows_total = models.PositiveIntegerField(default=0, verbose_name=_("rows total"))
    rows_done = models.PositiveIntegerField(default=0, verbose_name=_("rows done"))
    file = models.FileField(
        storage=private_storage, upload_to="exports/", blank=True, verbose_name=_("file")
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} of {self.petition} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
