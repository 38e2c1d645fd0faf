from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "petitions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from petitions import tasks  # noqa: F401 - declares the tasks that queue() sends
