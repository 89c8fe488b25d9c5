from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "processing.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the outbox relay to the Celery worker's signals (a no-op in the API).
        from processing.jobs import relay  # noqa: F401
