"""Create the embedded default's admin account once, and print its login every time."""

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
