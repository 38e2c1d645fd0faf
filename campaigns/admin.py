from django.contrib import admin
from django.db import models

from accounts.admin import OrganisationScopedAdmin, ScopedInline
from petitions.models import Petition

from .models import Campaign, Event, Resource, Story


class PetitionInline(ScopedInline, admin.TabularInline):
    model = Petition
    fields = ["title", "slug", "status", "goal", "signature_count"]
    readonly_fields = ["signature_count"]
    show_change_link = True
    extra = 0


class StoryInline(ScopedInline, admin.StackedInline):
    model = Story
    extra = 0


class EventInline(ScopedInline, admin.TabularInline):
    model = Event
    extra = 0


class ResourceInline(ScopedInline, admin.TabularInline):
    model = Resource
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Campaign)
class CampaignAdmin(OrganisationScopedAdmin):
    list_display = ["title", "organisation", "status", "starts_on", "ends_on"]
    list_filter = ["status", ("organisation", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "tagline"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["organisation"]
    inlines = [PetitionInline, StoryInline, EventInline, ResourceInline]
