"""Text that staff write in each of the site's languages: campaigns, petitions, demands, stories,
events and resources.

A translated field is a column per language (django-translated-fields): `title` is `title_en`,
`title_ko`, `title_zh_hans` and `title_ja`, plain columns that queries, forms, migrations and
the presentation's seal see as they are. Each object is written first in one language, its
original (`language` on a campaign or a petition; a story, an event or a resource has its
campaign's, a demand its petition's), and may be translated into the others.

Reading `obj.title` gives the version in the active language when the object is translated into
it (every field written in the original is written in that language too), else the original:
an object reads wholly in one language, never half in one and half in another, and a page says
which (shown_language()) so that it can mark it with `lang` and note what is not translated.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from translated_fields import TranslatedField, to_attribute

from config.language import CODES, NAMES, active_language


def translated(field: models.Field) -> TranslatedField:
    """`field` in each language, each column named "<name> (<language>)" for the staff, and
    blank allowed in all of them: which one must be written depends on the object's original
    language (Translated.clean_fields())."""
    return TranslatedField(
        field,
        {
            code: {"blank": True, "verbose_name": format_lazy("{} ({})", field.verbose_name, name)}
            for code, name in settings.LANGUAGES
        },
        attrgetter=_in_shown_language,
    )


def _in_shown_language(name: str, field: TranslatedField):
    def getter(obj: Translated) -> str:
        return getattr(obj, to_attribute(name, obj.shown_language()))

    return getter


def language_field() -> models.CharField:
    return models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=gettext_lazy(
            "The language it is written in first. The other versions are its translations; "
            "a page in a language it has no translation into shows this one, with a note."
        ),
        verbose_name=gettext_lazy("original language"),
    )


class Translated(models.Model):
    """A model with translated fields, named in TRANSLATED. Its original language is its
    `language` field's, or, with ORIGINAL_FROM, the one of the object it belongs to."""

    TRANSLATED: tuple[str, ...] = ()
    # The translated fields the original must have (the others may stay blank in every language).
    REQUIRED: tuple[str, ...] = ()
    # The foreign key to the campaign or petition whose original language this one is.
    ORIGINAL_FROM: str | None = None

    class Meta:
        abstract = True

    @property
    def original_language(self) -> str:
        owner = getattr(self, self.ORIGINAL_FROM) if self.ORIGINAL_FROM else self
        return owner.language

    def version(self, name: str, language: str) -> str:
        return getattr(self, to_attribute(name, language))

    def has_language(self, language: str) -> bool:
        """Whether it reads wholly in `language`: the original, or a translation of every field
        the original has."""
        original = self.original_language
        return language == original or all(
            self.version(name, language) or not self.version(name, original)
            for name in self.TRANSLATED
        )

    def shown_language(self, language: str | None = None) -> str:
        """The language it is read in: `language` (the active one) if it has it, else its
        original."""
        language = language or active_language()
        return language if self.has_language(language) else self.original_language

    @property
    def languages(self) -> list[str]:
        """The languages it can be read in, the original first."""
        original = self.original_language
        return [original] + [c for c in CODES if c != original and self.has_language(c)]

    def clean_fields(self, exclude=None) -> None:
        """Django's checks of each field, and the original language's version of each REQUIRED
        field must be written (a field a form leaves out is not checked, as Django does)."""
        errors = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        original = self.original_language
        for name in self.REQUIRED:
            column = to_attribute(name, original)
            if (exclude and column in exclude) or column in errors:
                continue
            if not self.version(name, original).strip():
                errors[column] = [
                    _("Write this in %(language)s, the original language.")
                    % {"language": NAMES[original]}
                ]
        if errors:
            raise ValidationError(errors)


def columns(*names: str) -> list[str]:
    """Every language's column of the translated fields `names` (for search_fields, say)."""
    return [to_attribute(name, code) for name in names for code in CODES]
