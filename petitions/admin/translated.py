"""The staff write each translated field's versions side by side: one row per field, a column
per language (campaigns/translated.py), each box marked with its language."""

from __future__ import annotations

from translated_fields import to_attribute

from campaigns.translated import columns
from config.language import CODES


def _versions(name: str, field_names: set[str]) -> tuple[str, ...] | None:
    """The columns of the translated field whose column `name` is, if it is one."""
    for code in CODES:
        suffix = to_attribute("", code)  # "_ko", "_zh_hans"
        if name.endswith(suffix):
            row = tuple(columns(name.removesuffix(suffix)))
            if all(column in field_names for column in row):
                return row
    return None


def side_by_side(fields) -> list:
    """fields, with each translated field's columns brought together on one row."""
    names = {f for f in fields if isinstance(f, str)}
    rows, placed = [], set()
    for field in fields:
        row = _versions(field, names) if isinstance(field, str) else None
        if row is None:
            rows.append(field)
        elif field not in placed:
            rows.append(row)
            placed.update(row)
    return rows


class SideBySide:
    """For a ModelAdmin or an inline of a model with translated fields."""

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_fieldsets(self, request, obj=None):
        return [
            (
                name,
                {
                    **options,
                    "fields": side_by_side(options["fields"]),
                    "classes": [*options.get("classes", ()), "translated"],
                },
            )
            for name, options in super().get_fieldsets(request, obj)
        ]

    def get_queryset(self, request):
        """An inline's rows with the campaign or petition their original language is read
        from, in the same query."""
        queryset = super().get_queryset(request)
        if self.model.ORIGINAL_FROM:
            queryset = queryset.select_related(self.model.ORIGINAL_FROM)
        return queryset

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        code = getattr(db_field, "_translated_field_language_code", None)
        if formfield is not None and code:
            # Spelling, input methods and fonts in the box's own language.
            formfield.widget.attrs["lang"] = code
        return formfield
