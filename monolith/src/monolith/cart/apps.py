from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "monolith.cart"
    label = "cart"
    verbose_name = "Carts"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the login merge)
