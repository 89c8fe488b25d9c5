"""URLs of the processing service: the jobs API, health, and the staff admin."""

from django.contrib import admin
from django.urls import path
from tessera_contract.telemetry.django import metrics_view

from processing.jobs import health, views

urlpatterns = [
    path("api/v1/jobs", views.JobCollectionView.as_view(), name="job-collection"),
    path("api/v1/jobs/<str:job_id>", views.JobDetailView.as_view(), name="job-detail"),
    path("api/v1/jobs/<str:job_id>/cancel", views.JobCancelView.as_view(), name="job-cancel"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus scrapes it on the service itself; nginx does not route it from outside.
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
]

handler404 = "processing.jobs.problems.not_found"
handler500 = "processing.jobs.problems.server_error"
