from django.contrib import admin, messages

from . import signing
from .models import Demand, Petition, Signature


class DemandInline(admin.TabularInline):
    model = Demand
    extra = 1


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "campaign",
        "status",
        "signature_count",
        "goal",
        "opens_at",
        "closes_at",
    ]
    list_filter = ["status", "campaign__organisation", "campaign"]
    search_fields = ["title", "target"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["signature_count", "created_at", "updated_at"]
    autocomplete_fields = ["campaign"]
    inlines = [DemandInline]


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "email",
        "petition",
        "country",
        "city",
        "status",
        "created_at",
        "verified_at",
    ]
    list_filter = ["status", "country", "created_at", "verified_at", "petition"]
    search_fields = ["name", "email"]
    date_hierarchy = "created_at"
    list_select_related = ["petition"]
    show_full_result_count = False
    # What a supporter submitted is evidence; staff change a signature's status, not its content.
    readonly_fields = [
        "petition",
        "uuid",
        "name",
        "email",
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
    ]
    actions = ["invalidate"]

    @admin.action(
        description="Invalidate selected signatures (they stop counting)", permissions=["change"]
    )
    def invalidate(self, request, queryset):
        changed = signing.invalidate_signatures(queryset)
        self.message_user(
            request, f"{changed} signature(s) invalidated; counts updated.", messages.SUCCESS
        )

    def has_add_permission(self, request):
        return False
