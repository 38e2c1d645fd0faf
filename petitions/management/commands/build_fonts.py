"""Build the static font instances the PDF documents use (about a minute, once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from petitions.documents.fonts import static_fonts


class Command(BaseCommand):
    help = "Build the fonts for PDF documents into FONT_CACHE_DIR, if they are not there yet."

    def handle(self, *args, **options) -> None:
        paths = static_fonts()
        self.stdout.write(f"{len(paths)} fonts ready in {next(iter(paths.values())).parent}")
