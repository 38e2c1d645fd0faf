from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Organisation
from campaigns.translated import Translated, language_field, translated


class CampaignQuerySet(models.QuerySet):
    def live(self) -> CampaignQuerySet:
        return self.filter(status=Campaign.Status.LIVE)

    def public(self) -> CampaignQuerySet:
        """Campaigns anyone may look at: live ones and ended ones kept as a record."""
        return self.filter(status__in=[Campaign.Status.LIVE, Campaign.Status.ENDED])


class Campaign(Translated):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("organisation"),
    )
    language = language_field()
    title = translated(models.CharField(max_length=200, verbose_name=_("title")))
    slug = models.SlugField(max_length=80, unique=True, verbose_name=_("slug"))
    tagline = translated(models.CharField(max_length=300, verbose_name=_("tagline")))
    description = translated(
        models.TextField(
            help_text=_("Plain text; blank lines start paragraphs."),
            verbose_name=_("description"),
        )
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.DRAFT,
        verbose_name=_("status"),
    )
    starts_on = models.DateField(null=True, blank=True, verbose_name=_("starts on"))
    ends_on = models.DateField(null=True, blank=True, verbose_name=_("ends on"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = CampaignQuerySet.as_manager()

    TRANSLATED = ("title", "tagline", "description")
    REQUIRED = ("title",)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "slug"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("campaigns:detail", args=[self.slug])


class Story(Translated):
    """A testimony published with a campaign. People at risk are named only by a pseudonym."""

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="stories",
        verbose_name=_("campaign"),
    )
    title = translated(models.CharField(max_length=200, verbose_name=_("title")))
    pseudonym = translated(
        models.CharField(
            max_length=100,
            help_text=_("Never a real name: the people in these stories are at risk."),
            verbose_name=_("pseudonym"),
        )
    )
    body = translated(
        models.TextField(
            help_text=_("Plain text; blank lines start paragraphs."), verbose_name=_("body")
        )
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    TRANSLATED = REQUIRED = ("title", "pseudonym", "body")
    ORIGINAL_FROM = "campaign"

    class Meta:
        verbose_name = _("story")
        ordering = ["position", "pk"]
        verbose_name_plural = _("stories")

    def __str__(self) -> str:
        return self.title


class Event(Translated):
    """A local action on a campaign's day: a vigil, a march, a letter handed to an embassy."""

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("campaign"),
    )
    city = translated(models.CharField(max_length=100, verbose_name=_("city")))
    country = CountryField(verbose_name=_("country"))
    venue = translated(models.CharField(max_length=200, verbose_name=_("venue")))
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    organiser = models.CharField(max_length=200, blank=True, verbose_name=_("organiser"))
    description = translated(models.TextField(verbose_name=_("description")))

    TRANSLATED = ("city", "venue", "description")
    REQUIRED = ("city",)
    ORIGINAL_FROM = "campaign"

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"{self.city}, {self.country.name}"


class Resource(Translated):
    """Material supporters can use: a printable poster, a briefing, a letter template."""

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="resources",
        verbose_name=_("campaign"),
    )
    title = translated(models.CharField(max_length=200, verbose_name=_("title")))
    url = models.URLField(verbose_name=_("url"))
    description = translated(models.CharField(max_length=300, verbose_name=_("description")))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    TRANSLATED = ("title", "description")
    REQUIRED = ("title",)
    ORIGINAL_FROM = "campaign"

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title
