from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts import audit
from accounts.admin import OrganisationScopedAdmin, ReadOnlyAdmin
from petitions.admin.access import can_present, can_see_emails, get_petition_for_staff, staff_role
from petitions.admin.petitions import _presentation_link
from petitions.models import (
    Export,
    Presentation,
)
from petitions.services import presenting


@admin.register(Presentation)
class PresentationAdmin(ReadOnlyAdmin, OrganisationScopedAdmin):
    organisation_path = "petition__campaign__organisation"
    list_display = [
        "petition",
        "presented_on",
        "place",
        "recipient",
        "total_count",
        "status",
        "document_link",
    ]
    list_filter = ["status"]
    # The stored file is offered through document_link (which checks access), never by path.
    exclude = ["document"]
    readonly_fields = [f.name for f in Presentation._meta.fields if f.name != "document"] + [
        "document_link"
    ]

    @admin.display(description=gettext_lazy("Document"))
    def document_link(self, presentation: Presentation) -> str:
        return _presentation_link(presentation)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/document/",
                self.admin_site.admin_view(self.document),
                name="petitions_presentation_document",
            ),
            path(
                "<path:object_id>/rebuild/",
                self.admin_site.admin_view(require_POST(self.rebuild)),
                name="petitions_presentation_rebuild",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        presentation = self.get_object(request, object_id)
        if presentation is not None and presenting.rebuildable(presentation):
            role = staff_role(request.user, presentation.petition.campaign.organisation_id)
            extra_context = {**(extra_context or {}), "may_rebuild": can_present(role)}
        return super().change_view(request, object_id, form_url, extra_context)

    def rebuild(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Build a failed (or stuck) presentation's document again: those who may present."""
        presentation = Presentation.objects.filter(pk=object_id if object_id.isdigit() else 0)
        presentation = presentation.first()
        if presentation is None:
            raise Http404
        _petition, role = get_petition_for_staff(request, presentation.petition_id)
        if not can_present(role):
            raise PermissionDenied
        try:
            presenting.rebuild_presentation(presentation, user=request.user)
        except presenting.NotRebuilt as exc:
            self.message_user(request, str(exc), messages.WARNING)
        else:
            outcome = {  # built by now where tasks run in the request (no Redis)
                Presentation.Status.BUILDING: (
                    _("The document is being built again."),
                    messages.INFO,
                ),
                Presentation.Status.READY: (_("The document is built."), messages.SUCCESS),
                Presentation.Status.FAILED: (
                    _("Building the document failed again."),
                    messages.ERROR,
                ),
            }
            self.message_user(request, *outcome[presentation.status])
        return redirect("admin:petitions_presentation_change", presentation.pk)

    def document(self, request: HttpRequest, object_id: str) -> HttpResponse:
        presentation = Presentation.objects.filter(pk=object_id if object_id.isdigit() else 0)
        presentation = presentation.first()
        if presentation is None or presentation.status != Presentation.Status.READY:
            raise Http404
        petition, _role = get_petition_for_staff(request, presentation.petition_id)
        audit.record(
            request.user,
            "presentation downloaded",
            petition.campaign.organisation,
            petition,
            presentation=presentation.pk,
            sha256=presentation.sha256,
        )
        return FileResponse(
            presentation.document.open("rb"),
            as_attachment=True,
            filename=f"{petition.slug}-presented-{presentation.presented_on}.pdf",
            content_type="application/pdf",
        )


@admin.register(Export)
class ExportAdmin(OrganisationScopedAdmin):
    organisation_path = "petition__campaign__organisation"
    list_display = [
        "petition",
        "format",
        "status",
        "progress",
        "include_email",
        "requested_by",
        "created_at",
        "download",
    ]
    list_filter = ["status", "format"]
    readonly_fields = [
        "petition",
        "format",
        "include_email",
        "status",
        "progress",
        "rows_done",
        "rows_total",
        "download",
        "error",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Progress"))
    def progress(self, export: Export) -> str:
        return _("%(percent)s%% (%(done)s of %(total)s)") % {
            "percent": export.progress_percent,
            "done": f"{export.rows_done:,}",
            "total": f"{export.rows_total:,}",
        }

    @admin.display(description=gettext_lazy("File"))
    def download(self, export: Export) -> str:
        if export.status != Export.Status.DONE:
            return export.get_status_display()
        url = reverse("admin:petitions_export_download", args=[export.pk])
        label = _("Download %(format)s") % {"format": export.format.upper()}
        return format_html('<a href="{}">{}</a>', url, label)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.file),
                name="petitions_export_download",
            )
        ]
        return own + super().get_urls()

    def file(self, request: HttpRequest, object_id: str) -> HttpResponse:
        export = Export.objects.filter(pk=object_id if object_id.isdigit() else 0).first()
        if export is None or export.status not in (Export.Status.DONE, Export.Status.DELETED):
            raise Http404
        petition, role = get_petition_for_staff(request, export.petition_id)
        if export.include_email and not can_see_emails(role):
            raise Http404
        if export.status == Export.Status.DELETED:
            days = settings.EXPORT_RETENTION_DAYS
            self.message_user(
                request,
                ngettext(
                    "This export's file was deleted %(days)d days after it was built, as every "
                    "export's is. Export the petition again for a new one.",
                    "This export's file was deleted %(days)d days after it was built, as every "
                    "export's is. Export the petition again for a new one.",
                    days,
                )
                % {"days": days},
                messages.WARNING,
            )
            return redirect("admin:petitions_export_change", export.pk)
        try:
            stream = export.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        audit.record(
            request.user,
            f"{export.format} export downloaded",
            petition.campaign.organisation,
            petition,
            export=export.pk,
        )
        content_type = "text/csv; charset=utf-8" if export.format == "csv" else "application/pdf"
        return FileResponse(
            stream,
            as_attachment=True,
            filename=f"{petition.slug}-{export.pk}.{export.format}",
            content_type=content_type,
        )
