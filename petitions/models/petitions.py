from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import roles
from campaigns.models import Campaign
from campaigns.translated import Translated, language_field, translated


def raised_goal(goal: int, step: int, count: int) -> int:
    """The first goal above count: goal itself, then goal + step, + step… or, with no step, the
    next of 1, 2, 5 × 10ⁿ."""
    if not goal or count < goal:
        return goal
    if step:
        return goal + step * ((count - goal) // step + 1)
    scale = 1
    while True:
        for factor in (1, 2, 5):
            if factor * scale > count and factor * scale > goal:
                return factor * scale
        scale *= 10


class PetitionQuerySet(models.QuerySet):
    def where_role(self, user, allowed: frozenset[str]) -> PetitionQuerySet:
        """Petitions in organisations where the user's role is one of `allowed`."""
        return roles.scope(self, user, allowed, "campaign__organisation")

    def public(self) -> PetitionQuerySet:
        """Petitions anyone may see: not drafts or scheduled ones, and only in campaigns that
        are public."""
        return self.exclude(status__in=Petition.UNPUBLISHED).filter(
            campaign__status__in=[Campaign.Status.LIVE, Campaign.Status.ENDED]
        )

    def listed(self) -> PetitionQuerySet:
        """Public petitions shown on the home and campaign pages: not archived ones."""
        return self.public().exclude(status=Petition.Status.ARCHIVED)

    def open(self) -> PetitionQuerySet:
        return self.filter(status=Petition.Status.OPEN)

    def sealed(self) -> PetitionQuerySet:
        """Petitions with a presentation: what was handed over, and its counts, stay so."""
        return self.filter(presentations__isnull=False).distinct()

    def unsealed(self) -> PetitionQuerySet:
        return self.exclude(presentations__isnull=False)

    def accepting_signatures(self, now: datetime) -> PetitionQuerySet:
        """Open, and between opens_at and closes_at (Petition.is_accepting_signatures in SQL)."""
        return self.open().filter(
            models.Q(opens_at__isnull=True) | models.Q(opens_at__lte=now),
            models.Q(closes_at__isnull=True) | models.Q(closes_at__gt=now),
        )


def is_sealed(petition_id: int | None) -> bool:
    """Whether a presentation sealed the petition: what was handed over, and its counts, stay
    as they were (PetitionQuerySet.sealed() in SQL)."""
    return (
        petition_id is not None
        and Petition.objects.filter(pk=petition_id, presentations__isnull=False).exists()
    )


class SealedPetition(ValidationError):
    """A change to what a presentation sealed: the petition as handed over, its demands, its
    paper signatures and its counts."""


class Petition(Translated):
    class Status(models.TextChoices):
        # The life cycle: draft (or scheduled, opened at opens_at by a periodic task) -> open
        # -> closed (by hand, or at closes_at by the same task) -> presented -> archived.
        DRAFT = "draft", gettext_lazy("Draft")
        SCHEDULED = "scheduled", gettext_lazy("Scheduled (opens at its opening time)")
        OPEN = "open", gettext_lazy("Open")
        CLOSED = "closed", gettext_lazy("Closed")
        PRESENTED = "presented", gettext_lazy("Presented")
        ARCHIVED = "archived", gettext_lazy("Archived (public, no longer listed)")

    UNPUBLISHED = (Status.DRAFT, Status.SCHEDULED)

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="petitions",
        verbose_name=gettext_lazy("campaign"),
    )
    language = language_field()
    title = translated(models.CharField(max_length=200, verbose_name=gettext_lazy("title")))
    slug = models.SlugField(max_length=80, unique=True, verbose_name=gettext_lazy("slug"))
    target = translated(
        models.CharField(
            max_length=200,
            help_text=gettext_lazy("Who the petition is addressed to, e.g. a government."),
            verbose_name=gettext_lazy("target"),
        )
    )
    # The language the recipient reads (Chinese for China's embassy): the presentation document
    # gives its headings in it beside the petition's own language (petitions/documents/pdf.py).
    recipient_language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=gettext_lazy(
            "The language the recipient reads: the presentation document gives its headings, "
            "and the petition's words where they are translated, in it beside the original."
        ),
        verbose_name=gettext_lazy("recipient's language"),
    )
    statement = translated(
        models.TextField(
            help_text=gettext_lazy("Plain text; blank lines start paragraphs."),
            verbose_name=gettext_lazy("statement"),
        )
    )
    goal = models.PositiveIntegerField(default=1000, verbose_name=gettext_lazy("goal"))
    goal_step = models.PositiveIntegerField(
        default=0,
        help_text=gettext_lazy(
            "When the goal is reached, raise it by this much; 0 raises it to the next of "
            "1, 2, 5, 10, 20, 50… thousand."
        ),
        verbose_name=gettext_lazy("goal step"),
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.DRAFT,
        verbose_name=gettext_lazy("status"),
    )
    opens_at = models.DateTimeField(null=True, blank=True, verbose_name=gettext_lazy("opens at"))
    closes_at = models.DateTimeField(null=True, blank=True, verbose_name=gettext_lazy("closes at"))
    # Confirmed online signatures, kept by petitions.counting (tallies folded in batches) so
    # that reading the count is one row, not a COUNT(*).
    signature_count = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=gettext_lazy("signature count")
    )
    # Signatures collected on paper: the sum of the petition's paper batches, kept by
    # petitions.services.paper whenever a batch changes.
    paper_count = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=gettext_lazy("paper count")
    )
    # When tallies were last folded into the counts (petitions.counting): the hourly recount looks
    # only at petitions whose counts can have changed since its last run.
    counts_changed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=gettext_lazy("counts changed at")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    objects = PetitionQuerySet.as_manager()

    TRANSLATED = REQUIRED = ("title", "target", "statement")

    # Kept by services.counting and services.paper with UPDATE … + n; a save() never writes
    # them, so a form's stale copy cannot undo confirmations made while it was open.
    KEPT_COUNTS = ("signature_count", "paper_count", "counts_changed_at")
    # Once presented, the only change left is between presented and archived (no longer listed).
    SEALED_STATUSES = (Status.PRESENTED, Status.ARCHIVED)

    class Meta:
        verbose_name = gettext_lazy("petition")
        verbose_name_plural = gettext_lazy("petitions")
        ordering = ["campaign", "-opens_at", "slug"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        """Save what a form or the shell may change: never the kept counts, and nothing of a
        presented petition but its move between presented and archived (SealedPetition)."""
        if not self._state.adding and self.pk is not None:
            fields = kwargs.get("update_fields") or [
                f.name for f in self._meta.concrete_fields if not f.primary_key
            ]
            kwargs["update_fields"] = [f for f in fields if f not in self.KEPT_COUNTS]
            self._refuse_changes_to_sealed(kwargs["update_fields"])
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("petitions:detail", args=[self.slug])

    def sealed_changes(self, fields=None) -> list[str]:
        """The fields this instance would change that its presentation sealed; [] when the
        petition has no presentation."""
        if not self.is_sealed:
            return []
        stored = Petition.objects.filter(pk=self.pk).values().first() or {}
        changed = []
        for field in self._meta.concrete_fields:
            if field.primary_key or field.name in self.KEPT_COUNTS or not field.editable:
                continue
            if fields is not None and field.name not in fields and field.attname not in fields:
                continue
            value = field.get_prep_value(getattr(self, field.attname))
            if field.name == "status":
                if value not in self.SEALED_STATUSES:
                    changed.append(field.name)
            elif value != field.get_prep_value(stored.get(field.attname)):
                changed.append(field.name)
        return changed

    def _refuse_changes_to_sealed(self, fields) -> None:
        changed = self.sealed_changes(fields)
        if changed:
            raise SealedPetition(
                _(
                    "This petition has been presented: it stays as it was handed over. Only "
                    "archiving it, or bringing it back from the archive, is possible (not: "
                    "%(fields)s)."
                )
                % {"fields": ", ".join(changed)}
            )

    def clean(self) -> None:
        self._refuse_changes_to_sealed(None)
        super().clean()
        if self.status == self.Status.SCHEDULED and not self.opens_at:
            raise ValidationError({"opens_at": _("A scheduled petition needs its opening time.")})
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("It must close after it opens.")})

    @property
    def is_accepting_signatures(self) -> bool:
        """Open, and between opens_at and closes_at (also as a query: accepting_signatures)."""
        now = timezone.now()
        return (
            self.status == self.Status.OPEN
            and (self.opens_at is None or self.opens_at <= now)
            and (self.closes_at is None or now < self.closes_at)
        )

    @property
    def closed_reason(self) -> str:
        """Why the petition cannot be signed now, in words for supporters."""
        now = timezone.now()
        if self.status == self.Status.PRESENTED:
            return _("This petition has been presented and no longer takes signatures.")
        if self.status == self.Status.CLOSED or (self.closes_at and self.closes_at <= now):
            return _("This petition is closed and no longer takes signatures.")
        if self.opens_at and self.opens_at > now:
            return _("This petition opens for signatures on %(date)s.") % {
                "date": date_format(self.opens_at, "DATE_FORMAT")
            }
        if self.status in self.UNPUBLISHED:
            return _("This petition is not open yet.")
        if self.status == self.Status.ARCHIVED:
            return _("This petition is archived and no longer takes signatures.")
        return ""

    @property
    def is_sealed(self) -> bool:
        return is_sealed(self.pk)

    @property
    def total_count(self) -> int:
        """The public count: confirmed online signatures plus paper signatures."""
        return self.signature_count + self.paper_count

    @property
    def current_goal(self) -> int:
        """The goal shown: the one set, raised in steps once reached."""
        return raised_goal(self.goal, self.goal_step, self.total_count)

    @property
    def milestones(self) -> list[int]:
        """The goals already reached, highest first."""
        reached, goal = [], self.goal
        while goal and goal <= self.total_count:
            reached.append(goal)
            goal = raised_goal(goal, self.goal_step, goal)
        return reached[::-1]

    @property
    def progress_percent(self) -> int:
        goal = self.current_goal
        if not goal:
            return 100
        return min(100, self.total_count * 100 // goal)


class SealedWithThePetition(models.Model):
    """Demands and paper batches: what a presentation sealed with its petition stays as it was,
    whichever path saves or deletes it (an inline, the shell, a task)."""

    class Meta:
        verbose_name = gettext_lazy("sealed with the petition")
        verbose_name_plural = gettext_lazy("sealed with the petitions")
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.refuse_if_sealed()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.refuse_if_sealed()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.refuse_if_sealed()

    def refuse_if_sealed(self) -> None:
        if is_sealed(self.petition_id):
            raise SealedPetition(
                _(
                    "This petition has been presented: its demands and paper signatures stay "
                    "as they were handed over."
                )
            )


class Demand(SealedWithThePetition, Translated):
    petition = models.ForeignKey(
        Petition,
        on_delete=models.CASCADE,
        related_name="demands",
        verbose_name=gettext_lazy("petition"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=gettext_lazy("position"))
    text = translated(models.TextField(verbose_name=gettext_lazy("text")))

    TRANSLATED = REQUIRED = ("text",)
    ORIGINAL_FROM = "petition"

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text[:80]

    def has_language(self, language: str) -> bool:
        """Read in `language` only with its petition: a petition is read in one language."""
        return super().has_language(language) and self.petition.has_language(language)
