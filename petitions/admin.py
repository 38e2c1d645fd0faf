from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Case, F, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts import audit, roles
from accounts.admin import OrganisationScopedAdmin, ReadOnlyAdmin, ScopedInline

from . import charts, delivery, documents, exports, moderation
from .access import can_present, can_see_emails, get_petition_for_staff, staff_role
from .models import (
    Demand,
    Export,
    PaperBatch,
    Petition,
    Presentation,
    Signature,
    SigningLimit,
    SigningRule,
    with_idna_domain,
)


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


class DemandInline(FrozenOncePresentedInline):
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

    @admin.display(description="Document")
    def download(self, presentation: Presentation) -> str:
        return _presentation_link(presentation)


def _presentation_link(presentation: Presentation) -> str:
    if delivery.rebuildable(presentation):  # its page has the button, for those who may
        url = reverse("admin:petitions_presentation_change", args=[presentation.pk])
        status = presentation.get_status_display()
        return format_html('{} (<a href="{}">build it again</a>)', status, url)
    if presentation.status != Presentation.Status.READY:
        return presentation.get_status_display()
    url = reverse("admin:petitions_presentation_document", args=[presentation.pk])
    return format_html('<a href="{}">Download PDF</a>', url)


class PresentForm(forms.Form):
    presented_on = forms.DateField(
        initial=timezone.localdate,
        # A browser's date box takes and gives ISO dates only.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    place = forms.CharField(max_length=200, help_text="e.g. the Chinese Embassy, London")
    recipient = forms.CharField(max_length=200, help_text="Who received it.")
    presented_by = forms.CharField(max_length=200, help_text="Who handed it over.")


def _temp_file():
    # Kept in memory while small, on disk beyond: memory stays flat whatever the export's size.
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)


@admin.register(Petition)
class PetitionAdmin(OrganisationScopedAdmin):
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
    search_fields = ["title", "target"]
    prepopulated_fields = {"slug": ["title"]}
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
                batch.delete()
            delivery.update_paper_count(form.instance)
            audit.record(
                request.user,
                "paper batches changed",
                form.instance.campaign.organisation,
                form.instance,
                paper_count=form.instance.paper_count,
            )
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
        export = delivery.request_export(
            petition, format=fmt, include_email=include_email, user=request.user
        )
        self.message_user(
            request,
            f"{count:,} signatures is a large export: it is being built in the background. "
            "Download it from this page when it is done.",
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
        rows = exports.write_csv(petition, out, include_email)
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
        rows, digest = documents.presentation_pdf(petition, Path(target.name))
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
            documents.paper_sheet_pdf(petition),
            content_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{petition.slug}-sheet.pdf"'},
        )

    def present(self, request: HttpRequest, object_id: str) -> HttpResponse:
        petition, role = get_petition_for_staff(request, object_id)
        if not can_present(role):
            raise PermissionDenied
        if petition.is_sealed:
            self.message_user(
                request, "This petition has already been presented.", messages.WARNING
            )
            return redirect("admin:petitions_petition_change", petition.pk)
        form = PresentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                presentation = delivery.present_petition(
                    petition, user=request.user, **form.cleaned_data
                )
            except delivery.InvalidPresentation as exc:
                form.add_error("presented_on", str(exc))
            except delivery.AlreadyPresented as exc:
                self.message_user(request, str(exc), messages.WARNING)
                return redirect("admin:petitions_petition_change", petition.pk)
            else:
                presentation.refresh_from_db()
                document = (
                    "The presentation document is ready under Presentations below."
                    if presentation.status == Presentation.Status.READY
                    else "The presentation document is being built and will appear under "
                    "Presentations below."
                )
                self.message_user(
                    request,
                    f"Marked as presented; signing is closed. {document}",
                    messages.SUCCESS,
                )
                return redirect("admin:petitions_petition_change", petition.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Mark as presented: {petition}",
            "petition": petition,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/petitions/petition/present.html", context)

    @admin.action(description="Export signatures as CSV (built in the background)")
    def export_csv_in_background(self, request, queryset):
        queued = 0
        for petition in queryset.select_related("campaign"):
            role = staff_role(request.user, petition.campaign.organisation_id)
            if not role:
                continue
            delivery.request_export(
                petition, format="csv", include_email=can_see_emails(role), user=request.user
            )
            queued += 1
        self.message_user(request, f"{queued} export(s) queued; see Exports.", messages.SUCCESS)


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

    @admin.display(description="Document")
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
        if presentation is not None and delivery.rebuildable(presentation):
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
            delivery.rebuild_presentation(presentation, user=request.user)
        except delivery.NotRebuilt as exc:
            self.message_user(request, str(exc), messages.WARNING)
        else:
            outcome = {  # built by now where tasks run in the request (no Redis)
                Presentation.Status.BUILDING: ("The document is being built again.", messages.INFO),
                Presentation.Status.READY: ("The document is built.", messages.SUCCESS),
                Presentation.Status.FAILED: ("Building the document failed again.", messages.ERROR),
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

    @admin.display(description="Progress")
    def progress(self, export: Export) -> str:
        return f"{export.progress_percent}% ({export.rows_done:,} of {export.rows_total:,})"

    @admin.display(description="File")
    def download(self, export: Export) -> str:
        if export.status != Export.Status.DONE:
            return export.get_status_display()
        url = reverse("admin:petitions_export_download", args=[export.pk])
        return format_html('<a href="{}">Download {}</a>', url, export.format.upper())

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
            self.message_user(
                request,
                f"This export's file was deleted {settings.EXPORT_RETENTION_DAYS} days after it "
                "was built, as every export's is. Export the petition again for a new one.",
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


class HeldFilter(admin.SimpleListFilter):
    title = "held"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", "Held (not counted)"), ("no", "Not held")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(held_reason="")
        if self.value() == "no":
            return queryset.filter(held_reason="")
        return queryset


@admin.register(Signature)
class SignatureAdmin(OrganisationScopedAdmin):
    """Signatures are evidence: nobody adds, edits or deletes one here. Staff change a
    signature's status through the actions (petitions/moderation.py, which decides what each
    role may change). A signer's address and network (Signature.PRIVATE_FIELDS) are shown,
    searched and offered only where the user's role in that signature's organisation allows it:
    a list spanning organisations shows each row as its organisation allows."""

    organisation_path = "petition__campaign__organisation"
    list_display = [
        "name",
        "address",  # a look-alike domain shown in its IDNA form too
        "petition",
        "country",
        "city",
        "status",
        "held_reason",
        "created_at",
        "verified_at",
    ]
    list_filter = [
        "status",
        HeldFilter,
        "country",
        "created_at",
        "verified_at",
        ("petition", admin.RelatedOnlyFieldListFilter),
    ]
    # A name; and where the role allows, an address, a domain ("@gmail.com") or the start of a
    # network ("203.0.113.").
    search_fields = ["name", "email", "ip_network"]
    date_hierarchy = "created_at"
    list_select_related = ["petition"]
    show_full_result_count = False
    readonly_fields = [
        "petition",
        "uuid",
        "name",
        "email_for_staff",
        "email_canonical",
        "country",
        "city",
        "source",
        "created_at",
        "consented_at",
        "verified_at",
        "confirmations_requested",
        "confirmations_sent",
        "last_confirmation_sent_at",
        "status",
        "held_reason",
        "ip_network",
        "erased_at",
    ]
    exclude = ["email"]  # shown as email_for_staff
    actions = ["invalidate", "withdraw", "restore", "release", "resend", "erase"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_erase_permission(self, request) -> bool:
        return roles.may(request.user, roles.ADMINISTER)

    def _email_organisations(self, request) -> set[int] | None:
        """The organisations whose signers' addresses the user may see; None: all of them."""
        if request.user.is_superuser:
            return None
        return {org for org, role in roles.roles(request.user).items() if can_see_emails(role)}

    def _sees_emails(self, request, obj=None) -> bool:
        visible = self._email_organisations(request)
        if visible is None:
            return True
        if obj is not None:
            return obj.petition.campaign.organisation_id in visible
        return bool(visible)

    def get_queryset(self, request):
        """Each row carries the address as this user may see it ("" where not)."""
        queryset = super().get_queryset(request)
        visible = self._email_organisations(request)
        if visible is None:
            return queryset.annotate(shown_email=F("email"))
        return queryset.annotate(
            shown_email=Case(
                When(**{f"{self.organisation_path}__in": visible}, then=F("email")),
                default=Value(""),
                output_field=models.CharField(),
            )
        )

    @admin.display(description="email", ordering="shown_email")
    def address(self, signature: Signature) -> str:
        return with_idna_domain(signature.shown_email) or "—"

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if self._sees_emails(request):
            return shown
        return [f for f in shown if f != "address"]

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if self._sees_emails(request):
            return fields
        return [f for f in fields if f not in Signature.PRIVATE_FIELDS]

    def get_search_results(self, request, queryset, search_term):
        """Names are searched everywhere the user reads signatures; addresses and networks only
        in organisations where the user may see them."""
        visible = self._email_organisations(request)
        if visible is None or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        by_name = queryset.filter(name__icontains=search_term.strip())
        if not visible:
            return by_name, False
        private, _ = super().get_search_results(
            request,
            queryset.filter(**{f"{self.organisation_path}__in": visible}),
            search_term,
        )
        return by_name | private, False

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self._sees_emails(request, obj):
            return fields
        return [f for f in fields if f not in Signature.PRIVATE_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if self._sees_emails(request, obj):
            return fields
        return [f for f in fields if f not in Signature.PRIVATE_FIELDS]

    @admin.action(
        description="Invalidate selected signatures (they stop counting)", permissions=["change"]
    )
    def invalidate(self, request, queryset):
        return self._change(request, queryset, moderation.invalidate_signatures, "invalidated")

    @admin.action(
        description="Withdraw selected signatures at the signer's request (they stop counting)",
        permissions=["change"],
    )
    def withdraw(self, request, queryset):
        return self._change(request, queryset, moderation.withdraw_signatures, "withdrawn")

    @admin.action(
        description="Release selected held signatures (confirmed ones start counting)",
        permissions=["change"],
    )
    def release(self, request, queryset):
        return self._change(request, queryset, moderation.release_signatures, "released")

    @admin.action(
        description="Restore selected invalidated or withdrawn signatures", permissions=["change"]
    )
    def restore(self, request, queryset):
        return self._change(request, queryset, moderation.restore_signatures, "restored")

    @admin.action(
        description="Resend the confirmation email to selected pending signatures (capped)",
        permissions=["change"],
    )
    def resend(self, request, queryset):
        return self._change(request, queryset, moderation.resend_confirmations, "sent again")

    @admin.action(
        description="Erase the signers' personal data at their request (they still count)",
        permissions=["erase"],
    )
    def erase(self, request, queryset):
        return self._change(request, queryset, moderation.erase_signers, "erased", roles.ADMINISTER)

    def _change(self, request, queryset, change, done: str, allowed=roles.WRITE):
        """Count what matches first: a page says how many signatures, in which states and on
        which petitions, the action would touch, and how many of the selection it leaves out
        (other organisations' where the role does not allow it, presented petitions'); only its
        button applies the change, which the counts follow and the audit log records."""
        selected = queryset.count()
        queryset = queryset.where_role(request.user, allowed)
        if request.POST.get("confirmed") != "yes":
            return self._count_first(request, queryset, done, selected)
        changed = change(queryset, by=request.user)
        self.message_user(
            request, f"{changed} signature(s) {done}; counts updated.", messages.SUCCESS
        )
        return None

    def _count_first(self, request, queryset, done: str, selected: int) -> TemplateResponse:
        by_status = dict(queryset.order_by().values_list("status").annotate(n=models.Count("pk")))
        petitions = (
            queryset.order_by()
            .values_list("petition__title")
            .annotate(n=models.Count("pk"))
            .order_by("-n")
        )
        total = sum(by_status.values())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Signatures to be {done}",
            "opts": self.model._meta,
            "done": done,
            "total": total,
            "left_out": selected - total,
            "presented": 0
            if done == "erased"
            else queryset.filter(petition__presentations__isnull=False).distinct().count(),
            "by_status": [
                (Signature.Status(status).label, n) for status, n in sorted(by_status.items())
            ],
            "held": queryset.exclude(held_reason="").count(),
            "petitions": list(petitions[:20]),
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/petitions/signature/count_first.html", context)


class SuperuserAdmin(admin.ModelAdmin):
    """What runs the instance rather than one organisation: for superusers only."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


@admin.register(SigningRule)
class SigningRuleAdmin(SuperuserAdmin):
    """The allow and block lists for signing."""

    list_display = ["kind", "network", "domain", "address", "note", "created_at"]
    list_filter = ["kind"]
    search_fields = ["network", "domain", "address", "note"]


@admin.register(SigningLimit)
class SigningLimitAdmin(SuperuserAdmin):
    """The rate limits on signing, one per scope (petitions/abuse.py); changed, not added or
    removed (0 turns one off). Each change is audited and holds everywhere within seconds."""

    list_display = ["scope", "limit", "window_minutes", "updated_at"]
    list_editable = ["limit", "window_minutes"]
    fields = ["scope", "limit", "window_minutes"]
    readonly_fields = ["scope"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            request.user, "signing limit changed", None, obj,
            limit=obj.limit, window_minutes=obj.window_minutes,
        )  # fmt: skip
