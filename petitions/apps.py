from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = gettext_lazy("Petitions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from petitions import tasks  # noqa: F401 - declares the tasks that queue() sends
