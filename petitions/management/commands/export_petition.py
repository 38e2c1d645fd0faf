"""Export a petition's counted signatures: the presentation PDF or the staff CSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts import audit
from config.private_files import private_file
from petitions.documents import csv_file, pdf
from petitions.models import Petition


class Command(BaseCommand):
    help = "Write a petition's presentation document (pdf) or signature list (csv) to a file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["pdf", "csv"], required=True)
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument(
            "--include-email",
            action="store_true",
            help="add signers' email addresses to a CSV (never in a PDF)",
        )

    def handle(self, *args, slug: str, format: str, output: str, include_email: bool, **opts):
        petition = Petition.objects.select_related("campaign__organisation").filter(slug=slug)
        petition = petition.first()
        if petition is None:
            raise CommandError(f"No petition with the slug {slug!r}.")
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        if format == "pdf" and include_email:
            raise CommandError("A presentation document never holds email addresses.")
        private_file(target)  # signers' names (and addresses): readable by this user only
        if format == "csv":
            with open(target, "wb") as out:
                rows = csv_file.write_csv(petition, out, include_email)
            detail = {"include_email": include_email}
        else:
            rows, digest = pdf.presentation_pdf(petition, target)
            detail = {"sha256": digest}
        audit.record(
            "command line",
            f"{format} export",
            petition.campaign.organisation,
            petition,
            rows=rows,
            **detail,
        )
        self.stdout.write(f"Wrote {rows:,} signatures to {target}")
