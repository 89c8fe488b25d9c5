from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "monolith.api"
    label = "api"
    verbose_name = "Storefront API"
