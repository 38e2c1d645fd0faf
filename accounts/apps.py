from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            signals,  # noqa: F401 - connects the login audit
            tasks,  # noqa: F401 - declares the tasks that queue() sends
        )
