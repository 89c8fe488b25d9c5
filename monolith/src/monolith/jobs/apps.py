from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "monolith.jobs"
    label = "jobs"
    verbose_name = "Processing jobs"
