from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "monolith.inbox"
    label = "inbox"
    verbose_name = "Webhook inbox"
