"""Create the embedded default's admin account once, and print its login every time: the
password and the second factor (an authenticator key, and the backup codes not used yet)."""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an 'admin' superuser with a random password (kept in var/) and print the login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default=settings.SITE_URL + "/admin/")

    def handle(self, *args, username: str, url: str, **options) -> None:
        User = get_user_model()
        password_file = settings.VAR_DIR / f"{username}-password"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email="", password=password)
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(password + "\n")
        elif password_file.exists() and user.check_password(password_file.read_text().strip()):
            password = password_file.read_text().strip()
        else:
            password = "(unchanged; set one with: manage.py changepassword " + username + ")"
        self.stdout.write(f"Admin login: {url}  user: {username}  password: {password}")
        if password.startswith("(unchanged"):
            return  # not the demo's own account any more: its second factor is its owner's
        self.stdout.write(self.second_factor(user or User.objects.get(username=username)))

    def second_factor(self, user) -> str:
        from django_otp.plugins.otp_static.models import StaticToken
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.two_factor import APP_DEVICE, app_key, backup_codes

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=True)
        codes = list(
            StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
        ) or backup_codes(user)
        return (
            f"Second factor: one of the backup codes: {' '.join(codes)} (each works once), "
            f"or a code from an authenticator app given the authenticator key: {app_key(device)}"
        )
