from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import audit, roles
from .models import AuditEvent, Membership, Organisation, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened: anyone allowed to see them reads them; nobody edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganisationScopedAdmin(admin.ModelAdmin):
    """Everything a staff member sees and does here is decided by their role in the object's
    organisation (accounts/roles.py), not by Django's per-model permissions: lists and pages show
    only their organisations' objects (an outsider gets nothing, not even a count), viewers only
    read, and foreign keys offer only organisations (and their campaigns and petitions) where the
    user may write. Superusers see and do everything. `organisation_path` is the lookup from the
    model to its Organisation."""

    organisation_path = "organisation"
    read_roles = roles.READ
    write_roles = roles.WRITE
    delete_roles = roles.ADMINISTER

    def _allowed(self, request, allowed, obj=None) -> bool:
        return roles.may(request.user, allowed, obj, self.organisation_path)

    def has_module_permission(self, request):
        return self._allowed(request, self.read_roles)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, self.read_roles, obj)

    def has_add_permission(self, request):
        return self._allowed(request, self.write_roles)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, self.write_roles, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, self.delete_roles, obj)

    def get_queryset(self, request):
        return self.scoped(super().get_queryset(request), request)

    def scoped(self, queryset, request):
        """The objects of the queryset the user may read."""
        return roles.scope(queryset, request.user, self.read_roles, self.organisation_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            writable = roles.organisations_where(request.user, self.write_roles)
            scope = WRITABLE_CHOICES.get(db_field.related_model._meta.label)
            if scope is not None:
                kwargs["queryset"] = db_field.related_model._default_manager.filter(
                    **{f"{scope}__in": writable}
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# What a foreign key may point to: objects of organisations where the user may write.
WRITABLE_CHOICES = {
    "accounts.Organisation": "pk",
    "campaigns.Campaign": "organisation",
    "petitions.Petition": "campaign__organisation",
}


class ScopedInline:
    """For inlines: the same rules, by the role in the parent object's organisation
    (`organisation_path` from the parent)."""

    organisation_path = "organisation"
    write_roles = roles.WRITE

    def _may_write(self, request, obj) -> bool:
        return roles.may(request.user, self.write_roles, obj, self.organisation_path)

    def has_view_permission(self, request, obj=None):
        return roles.may(request.user, roles.READ, obj, self.organisation_path)

    def has_add_permission(self, request, obj=None):
        return self._may_write(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_write(request, obj)


class MembershipInline(ScopedInline, admin.TabularInline):
    """Owners change their members' roles and remove members; adding people (accounts are the
    instance's) is for superusers."""

    model = Membership
    organisation_path = "id"
    write_roles = roles.ADMINISTER
    extra = 0
    autocomplete_fields = ["user"]

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["user"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Staff accounts, for superusers. A member of staff who has lost their phone and their
    backup codes has their second factor reset here, and sets up a new one at the next login."""

    list_display = ["username", "email", "is_superuser", "second_factor"]
    actions = ["reset_second_factor"]

    @admin.display(description=_("second factor"))
    def second_factor(self, user: User) -> str:
        from django_otp import user_has_device

        return gettext("set up") if user_has_device(user, confirmed=True) else gettext("not yet")

    @admin.action(description=_("Reset the second factor (they set up a new one at next login)"))
    def reset_second_factor(self, request, queryset) -> None:
        from django_otp import devices_for_user

        for user in queryset:
            devices = list(devices_for_user(user, confirmed=None))
            for device in devices:
                device.delete()
            if devices:
                audit.record(request.user, "second factor reset", None, user)
        count = len(queryset)
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(count)d account(s).",
                "Second factor reset for %(count)d account(s).",
                count,
            )
            % {"count": count},
        )


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    organisation_path = "id"
    write_roles = roles.ADMINISTER
    list_display = ["name", "slug", "website"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(OrganisationScopedAdmin):
    write_roles = roles.ADMINISTER
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", ("organisation", admin.RelatedOnlyFieldListFilter)]
    autocomplete_fields = ["user", "organisation"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["user", "organisation"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, OrganisationScopedAdmin):
    """Owners read their organisation's log; nobody edits it."""

    read_roles = roles.ADMINISTER
    list_display = ["created_at", "actor", "organisation", "action", "target"]
    list_filter = ["action"]
    date_hierarchy = "created_at"
