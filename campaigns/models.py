from __future__ import annotations

from django.db import models
from django.urls import reverse
from django_countries.fields import CountryField

from accounts.models import Organisation


class CampaignQuerySet(models.QuerySet):
    def live(self) -> CampaignQuerySet:
        return self.filter(status=Campaign.Status.LIVE)

    def public(self) -> CampaignQuerySet:
        """Campaigns anyone may look at: live ones and ended ones kept as a record."""
        return self.filter(status__in=[Campaign.Status.LIVE, Campaign.Status.ENDED])


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="campaigns"
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    tagline = models.CharField(max_length=300, blank=True)
    description = models.TextField(
        blank=True, help_text="Plain text; blank lines start paragraphs."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("campaigns:detail", args=[self.slug])


class Story(models.Model):
    """A testimony published with a campaign. People at risk are named only by a pseudonym."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="stories")
    title = models.CharField(max_length=200)
    pseudonym = models.CharField(
        max_length=100, help_text="Never a real name: the people in these stories are at risk."
    )
    body = models.TextField(help_text="Plain text; blank lines start paragraphs.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "stories"

    def __str__(self) -> str:
        return self.title


class Event(models.Model):
    """A local action on a campaign's day: a vigil, a march, a letter handed to an embassy."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    city = models.CharField(max_length=100)
    country = CountryField()
    venue = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField()
    organiser = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["starts_at", "city"]

    def __str__(self) -> str:
        return f"{self.city}, {self.country.name}"


class Resource(models.Model):
    """Material supporters can use: a printable poster, a briefing, a letter template."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="resources")
    title = models.CharField(max_length=200)
    url = models.URLField()
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title
