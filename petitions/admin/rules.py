from __future__ import annotations

from django.contrib import admin

from petitions.models import (
    SigningLimit,
    SigningRule,
)


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
    """The rate limits on signing, one per scope (services/abuse.py); changed, not added or
    removed (0 turns one off). Each change is audited and holds everywhere within seconds."""

    list_display = ["scope", "limit", "window_minutes", "updated_at"]
    list_editable = ["limit", "window_minutes"]
    fields = ["scope", "limit", "window_minutes"]
    readonly_fields = ["scope"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
