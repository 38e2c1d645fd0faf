from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import Case, F, Value, When
from django.template.response import TemplateResponse
from django.utils.translation import gettext, gettext_lazy, ngettext_lazy

from accounts import roles
from accounts.admin import OrganisationScopedAdmin
from petitions.admin.access import EMAIL_ROLES, can_see_emails
from petitions.admin.paging import CappedChangeList, CappedPaginator
from petitions.models import (
    Petition,
    Signature,
    petition_ids_where,
    with_idna_domain,
)
from petitions.services import moderation

# What each action did, as staff read it; keyed by the English word _change() is given.
DONE_WORDS = {
    "invalidated": gettext_lazy("invalidated"),
    "withdrawn": gettext_lazy("withdrawn"),
    "restored": gettext_lazy("restored"),
    "released": gettext_lazy("released"),
    "sent again": gettext_lazy("sent again"),
    "erased": gettext_lazy("erased"),
}
DONE_MESSAGES = {
    "invalidated": ngettext_lazy(
        "%(count)d signature(s) invalidated; counts updated.",
        "%(count)d signature(s) invalidated; counts updated.",
        "count",
    ),
    "withdrawn": ngettext_lazy(
        "%(count)d signature(s) withdrawn; counts updated.",
        "%(count)d signature(s) withdrawn; counts updated.",
        "count",
    ),
    "restored": ngettext_lazy(
        "%(count)d signature(s) restored; counts updated.",
        "%(count)d signature(s) restored; counts updated.",
        "count",
    ),
    "released": ngettext_lazy(
        "%(count)d signature(s) released; counts updated.",
        "%(count)d signature(s) released; counts updated.",
        "count",
    ),
    "sent again": ngettext_lazy(
        "%(count)d signature(s) sent again; counts updated.",
        "%(count)d signature(s) sent again; counts updated.",
        "count",
    ),
    "erased": ngettext_lazy(
        "%(count)d signature(s) erased; counts updated.",
        "%(count)d signature(s) erased; counts updated.",
        "count",
    ),
}
TO_BE_DONE_TITLES = {
    "invalidated": gettext_lazy("Signatures to be invalidated"),
    "withdrawn": gettext_lazy("Signatures to be withdrawn"),
    "restored": gettext_lazy("Signatures to be restored"),
    "released": gettext_lazy("Signatures to be released"),
    "sent again": gettext_lazy("Signatures to be sent again"),
    "erased": gettext_lazy("Signatures to be erased"),
}


class HeldFilter(admin.SimpleListFilter):
    title = gettext_lazy("held")
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", gettext("Held (not counted)")), ("no", gettext("Not held"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(held_reason="")
        if self.value() == "no":
            return queryset.filter(held_reason="")
        return queryset


class PetitionFilter(admin.RelatedFieldListFilter):
    """The petitions the user may read, from the petitions themselves: Django's
    RelatedOnlyFieldListFilter would read them off every signature on each view."""

    def field_choices(self, field, request, model_admin):
        readable = Petition.objects.where_role(request.user, model_admin.read_roles)
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": readable.values("pk")},
            ordering=self.field_admin_ordering(field, request, model_admin),
        )


@admin.register(Signature)
class SignatureAdmin(OrganisationScopedAdmin):
    """Signatures are evidence: nobody adds, edits or deletes one here. Staff change a
    signature's status through the actions (services/moderation.py, which decides what each
    role may change). A signer's address and network (Signature.PRIVATE_FIELDS) are shown,
    searched and offered only where the user's role in that signature's organisation allows it:
    a list spanning organisations shows each row as its organisation allows.

    Every part of the list reads indexes and estimates, not the whole petition, so it costs
    about the same at a million signatures as at a thousand: no date hierarchy (its
    MIN/MAX and DISTINCT read every row; the "created at" filter does its work), counts capped
    (paging.py), sorting only by when signed (the index on created_at), and search by
    SignatureQuerySet.matching()."""

    organisation_path = "petition__campaign__organisation"
    list_display = [
        "name",
        "address",  # a look-alike domain shown in its IDNA form too
        "petition",
        "country_name",
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
        ("petition", PetitionFilter),
    ]
    # The search box: what it searches is SignatureQuerySet.matching(), by the role.
    search_fields = ["name"]
    search_help_text = gettext_lazy(
        "A name or part of one. Where your role shows addresses: a whole address, part of one "
        "(@example.org), or the start of a network (203.0.113.)."
    )
    sortable_by = ["created_at"]
    list_select_related = ["petition"]
    show_full_result_count = False
    paginator = CappedPaginator
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

    def _email_petitions(self, request) -> list[int] | None:
        """The petitions whose signers' addresses the user may see; None: all of them. Read
        once per request: the list and its search both ask."""
        if request.user.is_superuser:
            return None
        if not hasattr(request, "email_petitions"):
            request.email_petitions = petition_ids_where(request.user, EMAIL_ROLES)
        return request.email_petitions

    def _sees_emails(self, request, obj=None) -> bool:
        visible = self._email_organisations(request)
        if visible is None:
            return True
        if obj is not None:
            return obj.petition.campaign.organisation_id in visible
        return bool(visible)

    def scoped(self, queryset, request):
        return queryset.where_role(request.user, self.read_roles)

    def get_changelist(self, request, **kwargs):
        return CappedChangeList

    def get_queryset(self, request):
        """Each row carries the address as this user may see it ("" where not)."""
        queryset = super().get_queryset(request)
        visible = self._email_petitions(request)
        if visible is None:
            return queryset.annotate(shown_email=F("email"))
        return queryset.annotate(
            shown_email=Case(
                When(petition__in=visible, then=F("email")),
                default=Value(""),
                output_field=models.CharField(),
            )
        )

    @admin.display(description=gettext_lazy("email"), ordering="shown_email")
    def address(self, signature: Signature) -> str:
        return with_idna_domain(signature.shown_email) or "—"

    # The country's name, read from the signature: Django's own display of the field flattens
    # django-countries' 250 choices on every row (a quarter of a page's time).
    @admin.display(description=gettext_lazy("country"))
    def country_name(self, signature: Signature) -> str:
        return signature.country.name

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if self._sees_emails(request):
            return shown
        return [f for f in shown if f != "address"]

    def get_search_results(self, request, queryset, search_term):
        """Names are searched everywhere the user reads signatures; addresses and networks only
        on petitions where the user may see them."""
        if not search_term.strip():
            return queryset, False
        return queryset.matching(search_term, self._email_petitions(request)), False

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
        description=gettext_lazy("Invalidate selected signatures (they stop counting)"),
        permissions=["change"],
    )
    def invalidate(self, request, queryset):
        return self._change(request, queryset, moderation.invalidate_signatures, "invalidated")

    @admin.action(
        description=gettext_lazy(
            "Withdraw selected signatures at the signer's request (they stop counting)"
        ),
        permissions=["change"],
    )
    def withdraw(self, request, queryset):
        return self._change(request, queryset, moderation.withdraw_signatures, "withdrawn")

    @admin.action(
        description=gettext_lazy(
            "Release selected held signatures (confirmed ones start counting)"
        ),
        permissions=["change"],
    )
    def release(self, request, queryset):
        return self._change(request, queryset, moderation.release_signatures, "released")

    @admin.action(
        description=gettext_lazy("Restore selected invalidated or withdrawn signatures"),
        permissions=["change"],
    )
    def restore(self, request, queryset):
        return self._change(request, queryset, moderation.restore_signatures, "restored")

    @admin.action(
        description=gettext_lazy(
            "Resend the confirmation email to selected pending signatures (capped)"
        ),
        permissions=["change"],
    )
    def resend(self, request, queryset):
        return self._change(request, queryset, moderation.resend_confirmations, "sent again")

    @admin.action(
        description=gettext_lazy(
            "Erase the signers' personal data at their request (they still count)"
        ),
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
        message = DONE_MESSAGES[done] % {"count": changed}
        self.message_user(request, message, messages.SUCCESS)
        return None

    def _count_first(self, request, queryset, done: str, selected: int) -> TemplateResponse:
        by_status = dict(queryset.order_by().values_list("status").annotate(n=models.Count("pk")))
        per_petition = list(
            queryset.order_by()
            .values_list("petition")
            .annotate(n=models.Count("pk"))
            .order_by("-n")[:20]
        )
        titles = Petition.objects.in_bulk([pk for pk, _n in per_petition])
        total = sum(by_status.values())
        context = {
            **self.admin_site.each_context(request),
            "title": TO_BE_DONE_TITLES[done],
            "opts": self.model._meta,
            "done": DONE_WORDS[done],
            "total": total,
            "left_out": selected - total,
            "presented": 0
            if done == "erased"
            else queryset.filter(petition__presentations__isnull=False).distinct().count(),
            "by_status": [
                (Signature.Status(status).label, n) for status, n in sorted(by_status.items())
            ],
            "held": queryset.exclude(held_reason="").count(),
            "petitions": [(str(titles[pk]), n) for pk, n in per_petition],
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/petitions/signature/count_first.html", context)
