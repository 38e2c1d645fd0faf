from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPConfig


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin with config.admin.StaffAdminSite as admin.site."""

    default_site = "config.admin.StaffAdminSite"


class AuthenticatorAppsConfig(TOTPConfig):
    """django-otp's TOTP devices, named for the admin's sidebar."""

    verbose_name = gettext_lazy("Second factor: authenticator apps")


class BackupCodesConfig(StaticConfig):
    """django-otp's static tokens: the backup codes."""

    verbose_name = gettext_lazy("Second factor: backup codes")
