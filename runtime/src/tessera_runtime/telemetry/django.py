"""The Django side of the metrics: request latency middleware and the ``/metrics`` view.

Settings read: ``CELERY_BROKER_URL``, ``CELERY_BROKER_TRANSPORT_OPTIONS`` and
``TESSERA_METRICS_QUEUES`` (the queues whose depth the view reports).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client.registry import Collector

from tessera_runtime.telemetry.metrics import (
    HTTP_REQUEST_DURATION,
    QueueDepthCollector,
    http_method_label,
    metrics_exposition,
)

__all__ = ["RequestMetricsMiddleware", "metrics_view", "metrics_view_with"]


class RequestMetricsMiddleware:
    """Times every request; put it first in MIDDLEWARE so the time includes the others.

    The route label is the URL pattern (``api/v1/jobs/<str:job_id>``), never the path, so the
    number of series stays bounded whatever clients request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Wrap ``get_response``."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer the request and observe how long it took."""
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        route = (match.route or match.view_name) if match is not None else "unmatched"
        HTTP_REQUEST_DURATION.labels(
            http_method_label(request.method or ""), route or "unmatched", str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response


_queue_depths: dict[str, QueueDepthCollector] = {}


def _queue_depth() -> QueueDepthCollector:
    # One per broker URL, kept: it caches its reading between scrapes.
    broker_url: str = settings.CELERY_BROKER_URL
    if broker_url not in _queue_depths:
        _queue_depths[broker_url] = QueueDepthCollector(
            broker_url=broker_url,
            queues=getattr(settings, "TESSERA_METRICS_QUEUES", []),
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        )
    return _queue_depths[broker_url]


def metrics_view_with(*collectors: Collector) -> Callable[[HttpRequest], HttpResponse]:
    """A ``GET /metrics`` view that also reads these collectors (a component's own gauges)
    at each scrape."""

    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        body, content_type = metrics_exposition([_queue_depth(), *collectors])
        return HttpResponse(body, content_type=content_type)

    return view


# The shared metrics only. Keep /metrics off the public internet (nginx).
metrics_view = metrics_view_with()
