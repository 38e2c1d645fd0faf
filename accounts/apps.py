from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = gettext_lazy("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            signals,  # noqa: F401 - connects the login audit
            tasks,  # noqa: F401 - declares the tasks that queue() sends
        )
