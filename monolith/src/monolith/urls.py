from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from tessera_runtime.problems.django import api_not_found
from tessera_runtime.telemetry.django import metrics_view_with

from monolith.core.metrics_access import metrics_access_required
from monolith.core.overdue import OverdueGauge
from monolith.inbox.selectors import inbox_events_overdue_counts
from monolith.jobs.selectors import processing_jobs_overdue_counts

# Work waiting past its budget, read from the database at each scrape (core/overdue.py).
metrics = metrics_access_required(
    metrics_view_with(
        OverdueGauge(
            {
                "inbox_event": inbox_events_overdue_counts,
                "processing_job": processing_jobs_overdue_counts,
            }
        )
    )
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("monolith.core.urls")),
    path("", include("monolith.catalog.urls")),
    path("cart/", include("monolith.cart.urls")),
    path("", include("monolith.orders.urls")),
    path("accounts/", include("monolith.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("monolith.api.urls")),
    # The webhook receivers, when WEBHOOK_RECEIVERS_PLACEMENT is inline
    # (inbox/receiver_placement.py).
    path("", include("monolith.inbox.urls")),
    # The processing service's signed job-result callback (contract tag internal-callbacks).
    path("", include("monolith.jobs.urls")),
    # Any other internal path: handler404 answers a problem only with DEBUG off, this route
    # with DEBUG on too (line breaks included, hence not `.*`).
    re_path(r"^internal/[\s\S]*$", api_not_found, name="unknown_internal_path"),
    # Prometheus scrapes it on the replica itself with its bearer token (core/metrics_access.py);
    # nginx does not route it from outside either.
    path("metrics", metrics, name="metrics"),
]
# Uploaded media are served by Django only in development; nginx or object storage serve them
# in deployment.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Pages get Django's HTML error pages; /api/ paths get problem+json, even for unknown URLs.
handler400 = "monolith.core.errors_views.bad_request"
handler404 = "monolith.core.errors_views.not_found"
handler403 = "monolith.core.errors_views.forbidden"
handler500 = "monolith.core.errors_views.server_error"
