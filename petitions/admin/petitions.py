from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts import audit
from accounts.admin import OrganisationScopedAdmin, ScopedInline
from campaigns.translated import columns
from petitions.admin.access import can_present, can_see_emails, get_petition_for_staff, staff_role
from petitions.admin.translated import SideBySide
from petitions.documents import csv_file, pdf
from petitions.models import (
    Demand,
    PaperBatch,
    Petition,
    Presentation,
)
from petitions.services import exporting, presenting
from petitions.web import charts


def _presented(petition: Petition | None) -> bool:
    """Whether the petition has a presentation: sealed, even once archived (Petition.save())."""
    return petition is not None and petition.is_sealed


class FrozenOncePresentedInline(ScopedInline, admin.TabularInline):
    """What was handed over stays as it was: once presented, the inline is read-only."""

    organisation_path = "campaign__organisation"

    def has_add_permission(self, request, obj=None):
        return not _presented(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _presented(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _presented(obj) and super().has_delete_permission(request, obj)


class DemandInline(SideBySide, FrozenOncePresentedInline):
    model = Demand
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None and obj.demands.exists() else 1


class PaperBatchInline(FrozenOncePresentedInline):
    model = PaperBatch
    fields = ["count", "received_on", "location", "note", "recorded_by"]
    readonly_fields = ["recorded_by"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 1, "cols": 30})}
    }
    extra = 0


class PresentationInline(ScopedInline, admin.TabularInline):
    model = Presentation
    organisation_path = "campaign__organisation"
    fields = ["presented_on", "place", "recipient", "total_count", "status", "sha256", "download"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Document"))
    def download(self, presentation: Presentation) -> str:
        return _presentation_link(presentation)


def _presentation_link(presentation: Presentation) -> str:
    if presenting.rebuildable(presentation):  # its page has the button, for those who may
        url = reverse("admin:petitions_presentation_change", args=[presentation.pk])
        status = presentation.get_status_display()
        return format_html('{} (<a href="{}">{}</a>)', status, url, _("build it again"))
    if presentation.status != Presentation.Status.READY:
        return presentation.get_status_display()
    url = reverse("admin:petitions_presentation_document", args=[presentation.pk])
    return format_html('<a href="{}">{}</a>', url, _("Download PDF"))


class PresentForm(forms.Form):
    presented_on = forms.DateField(
        label=gettext_lazy("Presented on"),
        initial=timezone.localdate,
        # A browser's date box takes and gives ISO dates only.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    place = forms.CharField(
        label=gettext_lazy("Place"),
        max_length=200,
        help_text=gettext_lazy("e.g. the Chinese Embassy, London"),
    )
    recipient = forms.CharField(
        label=gettext_lazy("Recipient"), max_length=200, help_text=gettext_lazy("Who received it.")
    )
    presented_by = forms.CharField(
        label=gettext_lazy("Presented by"),
        max_length=200,
        help_text=gettext_lazy("Who handed it over."),
    )


def _temp_file():
    # Kept in memory while small, on disk beyond: memory stays flat whatever the export's size.
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)


@admin.register(Petition)
class PetitionAdmin(SideBySide, OrganisationScopedAdmin):
    organisation_path = "campaign__organisation"
    list_display = [
        "title",
        "campaign",
        "status",
        "signature_count",
        "paper_count",
        "goal",
        "opens_at",
        "closes_at",
    ]
    list_filter = [
        "status",
        ("campaign__organisation", admin.RelatedOnlyFieldListFilter),
        ("campaign", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = columns("title", "target")
    prepopulated_fields = {"slug": ["title_en"]}
    readonly_fields = ["signature_count", "paper_count", "created_at", "updated_at"]
    autocomplete_fields = ["campaign"]
    inlines = [DemandInline, PaperBatchInline, PresentationInline]
    actions = ["export_csv_in_background"]
    change_form_template = "admin/petitions/petition/change_form.html"

    def view_on_site(self, obj: Petition) -> str:
        """The public page, or the staff preview while the petition is not public."""
        if obj.status in Petition.UNPUBLISHED:
            return reverse("petitions:preview", args=[obj.slug])
        return obj.get_absolute_url()

    def get_prepopulated_fields(self, request, obj=None):
        return {} if _presented(obj) else super().get_prepopulated_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if _presented(obj):
            # A presented petition stays as it was handed over, and the public page with it;
            # it may still be archived, and brought back (Petition.save() holds the same rule).
            return [f.name for f in Petition._meta.fields if f.name not in ("id", "status")]
        return super().get_readonly_fields(request, obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is PaperBatch:
            for batch in formset.save(commit=False):
                batch.recorded_by = batch.recorded_by or request.user
                batch.save()
            for batch in formset.deleted_objects:
                batch.delete()  # each counted and logged as it is saved or deleted
            return
        super().save_formset(request, form, formset, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        petition = self.get_object(request, object_id)
        if petition is not None:
            extra_context = {
                **(extra_context or {}),
                "timeline_chart": charts.timeline_svg(petition),
                "countries_chart": charts.countries_svg(petition),
                "world_map": charts.world_map_svg(petition),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/export.csv",
                self.admin_site.admin_view(self.export_csv),
                name="petitions_petition_export_csv",
            ),
            path(
                "<path:object_id>/document.pdf",
                self.admin_site.admin_view(self.document_pdf),
                name="petitions_petition_document_pdf",
            ),
            path(
                "<path:object_id>/paper-sheet.pdf",
                self.admin_site.admin_view(self.paper_sheet),
                name="petitions_petition_paper_sheet",
            ),
            path(
                "<path:object_id>/present/",
                self.admin_site.admin_view(self.present),
                name="petitions_petition_present",
            ),
        ]
        return own + super().get_urls()

    def _too_large_for_a_request(self, request, petition, fmt: str, include_email: bool):
        count = petition.signatures.counted().count()
        if count <= settings.EXPORT_BACKGROUND_THRESHOLD:
            return None
        export = exporting.request_export(
            petition, format=fmt, include_email=include_email, user=request.user
        )
        self.message_user(
            request,
            ngettext(
                "%(count)s signatures is a large export: it is being built in the background. "
                "Download it from this page when it is done.",
                "%(count)s signatures is a large export: it is being built in the background. "
                "Download it from this page when it is done.",
                count,
            )
            % {"count": f"{count:,}"},
            messages.INFO,
        )
        return redirect("admin:petitions_export_change", export.pk)

    def export_csv(self, request: HttpRequest, object_id: str) -> HttpResponse:
        petition, role = get_petition_for_staff(request, object_id)
        include_email = can_see_emails(role)
        queued = self._too_large_for_a_request(request, petition, "csv", include_email)
        if queued:
            return queued
        out = _temp_file()
        rows = csv_file.write_csv(petition, out, include_email)
        out.seek(0)
        audit.record(
            request.user,
            "csv export",
            petition.campaign.organisation,
            petition,
            rows=rows,
            include_email=include_email,
        )
        filename = f"{petition.slug}-signatures-{timezone.localdate()}.csv"
        return FileResponse(
            out, as_attachment=True, filename=filename, content_type="text/csv; charset=utf-8"
        )

    def document_pdf(self, request: HttpRequest, object_id: str) -> HttpResponse:
        petition, _role = get_petition_for_staff(request, object_id)
        queued = self._too_large_for_a_request(request, petition, "pdf", False)
        if queued:
            return queued
        target = tempfile.NamedTemporaryFile(suffix=".pdf")  # noqa: SIM115 - closed by response
        rows, digest = pdf.presentation_pdf(petition, Path(target.name))
        audit.record(
            request.user,
            "pdf export",
            petition.campaign.organisation,
            petition,
            rows=rows,
            sha256=digest,
        )
        target.seek(0)
        return FileResponse(
            target,
            as_attachment=True,
            filename=f"{petition.slug}.pdf",
            content_type="application/pdf",
        )

    def paper_sheet(self, request: HttpRequest, object_id: str) -> HttpResponse:
        petition, _role = get_petition_for_staff(request, object_id)
        return HttpResponse(
            pdf.paper_sheet_pdf(petition),
            content_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{petition.slug}-sheet.pdf"'},
        )

    def present(self, request: HttpRequest, object_id: str) -> HttpResponse:
        petition, role = get_petition_for_staff(request, object_id)
        if not can_present(role):
            raise PermissionDenied
        if petition.is_sealed:
            self.message_user(
                request, _("This petition has already been presented."), messages.WARNING
            )
            return redirect("admin:petitions_petition_change", petition.pk)
        form = PresentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                presentation = presenting.present_petition(
                    petition, user=request.user, **form.cleaned_data
                )
            except presenting.InvalidPresentation as exc:
                form.add_error("presented_on", str(exc))
            except presenting.AlreadyPresented as exc:
                self.message_user(request, str(exc), messages.WARNING)
                return redirect("admin:petitions_petition_change", petition.pk)
            else:
                presentation.refresh_from_db()
                done = (
                    _(
                        "Marked as presented; signing is closed. The presentation document is "
                        "ready under Presentations below."
                    )
                    if presentation.status == Presentation.Status.READY
                    else _(
                        "Marked as presented; signing is closed. The presentation document is "
                        "being built and will appear under Presentations below."
                    )
                )
                self.message_user(request, done, messages.SUCCESS)
                return redirect("admin:petitions_petition_change", petition.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Mark as presented: %(petition)s") % {"petition": petition},
            "petition": petition,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/petitions/petition/present.html", context)

    @admin.action(description=gettext_lazy("Export signatures as CSV (built in the background)"))
    def export_csv_in_background(self, request, queryset):
        queued = 0
        for petition in queryset.select_related("campaign"):
            role = staff_role(request.user, petition.campaign.organisation_id)
            if not role:
                continue
            exporting.request_export(
                petition, format="csv", include_email=can_see_emails(role), user=request.user
            )
            queued += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d export(s) queued; see Exports.",
                "%(count)d export(s) queued; see Exports.",
                queued,
            )
            % {"count": queued},
            messages.SUCCESS,
        )
