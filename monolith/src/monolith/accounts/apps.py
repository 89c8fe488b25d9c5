from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "monolith.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (keeps the cached user and the CSRF secret right)
