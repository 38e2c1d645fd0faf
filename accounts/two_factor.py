"""The second factor every member of staff passes before the admin shows them anything: a code
from an authenticator app (TOTP, RFC 6238, through django-otp), or one of ten single-use backup
codes given when the app was set up.

After the password, the admin sends a staff member here: the first time to set up their app (a QR
code and the key it holds, confirmed with a code from the app), afterwards to type a code. Until
then accounts.roles gives them no role anywhere, so no list, page, export or download of the
admin lets them through. Wrong codes slow down: django-otp refuses every code for 1, 2, 4, …
seconds after each failure. Each step is audited.
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit
from .roles import verified

BACKUP_CODES = 10
APP_DEVICE = "authenticator app"
BACKUP_DEVICE = "backup codes"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())  # "123 456" as apps show it


def backup_codes(user, count: int = BACKUP_CODES) -> list[str]:
    """New single-use backup codes for the user, replacing any left."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(count)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def app_key(device: TOTPDevice) -> str:
    """The key as an authenticator app asks for it when it cannot scan: base32, in fours."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


@never_cache
@csrf_protect
def second_factor(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    """Set up the app (first time) or type a code (every login), then go where the staff member
    was going."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect(f"{reverse('admin:login')}?next={reverse('admin:index')}")
    if verified(user):
        return redirect(_next(request))
    if user_has_device(user, confirmed=True):
        return _verify(request, site)
    return _set_up(request, site)


def _verify(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    user = request.user
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            audit.record(user, "two-factor verified", None, user, network=audit.network(request))
            return redirect(_next(request))
        audit.record(user, "two-factor failed", None, user, network=audit.network(request))
        form.add_error(
            "code",
            gettext(
                "That code is not right, or came too soon after a wrong one. Wait for the next "
                "code from your app, or use a backup code."
            ),
        )
    return _page(request, site, form, title=gettext("Enter your code"))


def _set_up(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    user = request.user
    # Kept unconfirmed until a code from it is typed, so that a reload shows the same key.
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name=APP_DEVICE, defaults={"confirmed": False}
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = backup_codes(user)
            otp_login(request, device)
            audit.record(user, "two-factor set up", None, user, network=audit.network(request))
            return _page(request, site, None, title=gettext("Keep your backup codes"), codes=codes)
        form.add_error(
            "code",
            gettext(
                "That code is not right, or came too soon after a wrong one. Wait for the next "
                "code from your app, and check that the phone's clock is right."
            ),
        )
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#212529")
    return _page(
        request,
        site,
        form,
        title=gettext("Set up your second factor"),
        qr=mark_safe(qr),  # noqa: S308 - segno's own SVG; the URL is in the modules, not text
        key=app_key(device),
    )


def _page(request: HttpRequest, site: admin.AdminSite, form, *, title: str, **extra):
    context = {
        **site.each_context(request),
        "title": title,
        "form": form,
        "next": _next(request),
        **extra,
    }
    return TemplateResponse(request, "admin/two_factor.html", context)
