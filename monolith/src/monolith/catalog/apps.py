from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "monolith.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from monolith.jobs.models import JobKind
        from monolith.jobs.results import result_handler_register

        from . import signals  # noqa: F401 - connects the receivers
        from .renditions import renditions_apply

        result_handler_register(JobKind.IMAGE_RENDITIONS, renditions_apply)
