from django.apps import AppConfig
from django.core import checks


class JobsConfig(AppConfig):
    name = "monolith.jobs"
    label = "jobs"
    verbose_name = "Processing jobs"

    def ready(self) -> None:
        from .checks import placement_check

        checks.register(placement_check)
