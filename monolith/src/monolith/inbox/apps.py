from django.apps import AppConfig
from django.core import checks


class InboxConfig(AppConfig):
    name = "monolith.inbox"
    label = "inbox"
    verbose_name = "Webhook inbox"

    def ready(self) -> None:
        from .checks import placement_check

        checks.register(placement_check)
