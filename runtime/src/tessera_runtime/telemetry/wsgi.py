"""Request metrics and ``/metrics`` for a plain WSGI application (the functions' local server).

The application reports a webhook's outcome by setting ``environ[WEBHOOK_OUTCOME_KEY]`` to
``(source, result)``; this wrapper counts it, so the application itself never imports
prometheus_client (it also runs on Lambda, where nothing scrapes it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any

from tessera_runtime.telemetry.metrics import (
    HTTP_REQUEST_DURATION,
    WEBHOOK_DELIVERIES,
    http_method_label,
    metrics_exposition,
)
from tessera_runtime.telemetry.webhook_outcome import WEBHOOK_OUTCOME_KEY

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
else:
    StartResponse = Callable[..., Any]
    WSGIApplication = Callable[..., Iterable[bytes]]
    WSGIEnvironment = dict[str, Any]

__all__ = ["MetricsWsgiMiddleware"]


class MetricsWsgiMiddleware:
    """Answers ``GET /metrics`` and times every other request of ``application``."""

    def __init__(self, application: WSGIApplication, *, routes: Collection[str]) -> None:
        """Label requests by path only when it is one of ``routes``; others are ``unmatched``."""
        self._application = application
        self._routes = frozenset(routes)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve the scrape, or pass the request on and observe it."""
        path = environ.get("PATH_INFO") or "/"
        if path == "/metrics" and environ.get("REQUEST_METHOD") in {"GET", "HEAD"}:
            body, content_type = metrics_exposition()
            start_response(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
            )
            return [body]
        started = time.perf_counter()
        status_seen: list[str] = []

        def start_response_observed(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        # The application answers in one piece (a list), so timing the call times the answer.
        body_parts = self._application(environ, start_response_observed)
        HTTP_REQUEST_DURATION.labels(
            http_method_label(environ.get("REQUEST_METHOD", "")),
            path if path in self._routes else "unmatched",
            status_seen[-1] if status_seen else "500",
        ).observe(time.perf_counter() - started)
        outcome = environ.get(WEBHOOK_OUTCOME_KEY)
        if outcome is not None:
            source, result = outcome
            WEBHOOK_DELIVERIES.labels(source, result).inc()
        return body_parts
