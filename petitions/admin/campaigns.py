from django.contrib import admin
from django.db import models
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from accounts.admin import OrganisationScopedAdmin, ScopedInline
from campaigns.models import Campaign, Event, Resource, Story
from campaigns.translated import columns
from petitions.admin import dashboard
from petitions.admin.translated import SideBySide
from petitions.models import Petition


class PetitionInline(ScopedInline, admin.TabularInline):
    """The campaign's petitions, added and written on their own pages: a petition's words in
    each language, its demands and its recipient's language need more room than a row."""

    model = Petition
    fields = ["title", "slug", "status", "goal", "signature_count"]
    readonly_fields = ["title", "signature_count"]
    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


class StoryInline(SideBySide, ScopedInline, admin.StackedInline):
    model = Story
    extra = 0


class EventInline(SideBySide, ScopedInline, admin.StackedInline):
    model = Event
    extra = 0


class ResourceInline(SideBySide, ScopedInline, admin.StackedInline):
    model = Resource
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Campaign)
class CampaignAdmin(SideBySide, OrganisationScopedAdmin):
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = ["title", "organisation", "status", "starts_on", "ends_on"]
    list_filter = ["status", ("organisation", admin.RelatedOnlyFieldListFilter)]
    search_fields = columns("title", "tagline")
    prepopulated_fields = {"slug": ["title_en"]}
    autocomplete_fields = ["organisation"]
    inlines = [PetitionInline, StoryInline, EventInline, ResourceInline]

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/dashboard/",
                self.admin_site.admin_view(self.dashboard),
                name="campaigns_campaign_dashboard",
            )
        ]
        return own + super().get_urls()

    def dashboard(self, request, object_id: str):
        """Totals, signatures today, pending confirmations, confirmation rate, charts and the
        latest signatures (names only) of the campaign's petitions; for its organisation's
        staff, refreshed every 30 seconds."""
        campaign = self.get_object(request, object_id)
        if campaign is None or not self.has_view_permission(request, campaign):
            raise Http404("No such campaign.")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Dashboard: %(campaign)s") % {"campaign": campaign},
            "opts": self.model._meta,
            "campaign": campaign,
            **dashboard.figures(campaign),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/dashboard.html", context)
