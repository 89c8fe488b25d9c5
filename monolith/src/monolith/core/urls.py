"""The monolith's health endpoints: the shared views (tessera_runtime.health.django) with the
monolith's readiness checks (readiness.py)."""

from importlib.metadata import version

from django.urls import path
from tessera_runtime.health.django import health_views

from .readiness import CHECKS

health = health_views(component="monolith", version=version("tessera-monolith"), checks=CHECKS)

app_name = "core"
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
