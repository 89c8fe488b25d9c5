"""URLs of the processing service: the jobs API, health, and the staff admin."""

from importlib.metadata import version

from django.contrib import admin
from django.urls import path, re_path
from tessera_runtime.health.django import health_views
from tessera_runtime.problems.django import api_not_found
from tessera_runtime.telemetry.django import metrics_view

from processing.jobs import views
from processing.jobs.readiness import CHECKS

health = health_views(component="processing", version=version("tessera-processing"), checks=CHECKS)

urlpatterns = [
    path("api/v1/jobs", views.JobCollectionView.as_view(), name="job-collection"),
    path("api/v1/jobs/<str:job_id>", views.JobDetailView.as_view(), name="job-detail"),
    path("api/v1/jobs/<str:job_id>/cancel", views.JobCancelView.as_view(), name="job-cancel"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus scrapes it on the service itself; nginx does not route it from outside.
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    # Last: any other path (line breaks included, hence not `.*`) but the admin's, whose own
    # routes redirect `admin` to `admin/`. handler404 answers a problem only with DEBUG off;
    # this route answers one with DEBUG on too.
    re_path(r"^(?!admin)[\s\S]*$", api_not_found, name="unknown-path"),
]

# The service is an API: its errors are problems, never Django's HTML pages. (A refusal in the
# API is DRF's own problem; handler403 stays Django's, for the staff admin.)
handler400 = "tessera_runtime.problems.django.api_bad_request"
handler404 = "tessera_runtime.problems.django.api_not_found"
handler500 = "tessera_runtime.problems.django.api_server_error"
