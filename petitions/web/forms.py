from __future__ import annotations

import unicodedata

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from config import memos
from petitions.models import Petition, Signature, validate_signer_email

# Characters that have no place in a name: C0/C1 controls, and the bidirectional overrides and
# isolates that can make a name display as something else. (Joiners such as ZWNJ, which Persian
# and Indic names need, are allowed.)
_BIDI_CONTROLS = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def clean_text(value: str, label: str, max_length: int) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in value):
        raise ValidationError(_("%(field)s can't contain control characters.") % {"field": label})
    # NFC can lengthen a string: check again so that the database never sees too long a value.
    if len(value) > max_length:
        raise ValidationError(
            _("%(field)s can be at most %(max)d characters long.")
            % {"field": label, "max": max_length}
        )
    return value


def country_choices() -> list[tuple[str, str]]:
    """The country list in the visitor's language, sorted once per process, not per request."""
    return memos.COUNTRY_CHOICES.get(
        "countries", lambda: [("", _("Choose your country")), *countries]
    )


class CountryField(forms.ChoiceField):
    """Checks the code against a set, not by walking the list of 250 choices on every post."""

    codes = frozenset(code for code, _ in countries)

    def valid_value(self, value) -> bool:
        return value in self.codes


class SignatureForm(forms.Form):
    name = forms.CharField(
        max_length=Signature._meta.get_field("name").max_length,
        label=gettext_lazy("Your name"),
        help_text=gettext_lazy(
            "As you want it to appear on the petition. It will be shown to the recipient."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        max_length=254,
        validators=[validate_signer_email],
        label=gettext_lazy("Email address"),
        help_text=gettext_lazy(
            "We'll email you a link to confirm your signature. It is never published."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # A callable: a form copies its fields for each instance, and a list of 250 countries would
    # be copied with it on every request.
    country = CountryField(label=gettext_lazy("Country"), choices=country_choices)
    city = forms.CharField(
        max_length=Signature._meta.get_field("city").max_length,
        required=False,
        label=gettext_lazy("Town or city (optional)"),
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    consent = forms.BooleanField(required=True)
    # The honeypot (services/abuse.py): hidden from people and screen readers, left empty by
    # them; a bot filling in every field fills this too.
    website = forms.CharField(
        required=False,
        label=gettext_lazy("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, petition: Petition, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.petition = petition
        self.fields["consent"].label = _(
            "I agree that %(organisation)s keeps my name, town and country to present this "
            "petition, which lists them, to its recipient, and uses my email address only to "
            "confirm my signature and to tell me what happens with the petition"
        ) % {"organisation": petition.campaign.organisation.name}
        self.fields["consent"].error_messages["required"] = _(
            "Please agree to how your details are used, or your signature can't be recorded."
        )

    @cached_property
    def helper(self) -> FormHelper:
        """How crispy-forms lays the form out: built when the form is shown, not for a POST."""
        helper = FormHelper()
        helper.form_action = reverse("petitions:sign", args=[self.petition.slug])
        helper.form_id = "sign-form"
        helper.layout = Layout(
            "name",
            "email",
            "country",
            "city",
            "consent",
            Div("website", css_class="visually-hidden", aria_hidden="true"),
        )
        helper.add_input(Submit("sign", _("Sign this petition"), css_class="btn-lg w-100"))
        # No CSRF token: the form is on a page cached for everyone, and the sign view is
        # protected by the browser's own Sec-Fetch-Site and Origin headers (web/signing.py).
        helper.disable_csrf = True
        return helper

    @classmethod
    def refused(cls, petition: Petition, message: str) -> SignatureForm:
        """An empty form saying why a POST was refused unread (petitions.web.signing.sign)."""
        form = cls(petition=petition)
        form.cleaned_data = {}  # what add_error() expects of a form that was checked
        form.add_error(None, message)
        return form

    def clean_name(self) -> str:
        name = clean_text(self.cleaned_data["name"], _("Your name"), self.fields["name"].max_length)
        if not any(ch.isalpha() for ch in name):
            raise ValidationError(_("Please enter your name."))
        return name

    def clean_city(self) -> str:
        return clean_text(
            self.cleaned_data["city"], _("Town or city"), self.fields["city"].max_length
        )
