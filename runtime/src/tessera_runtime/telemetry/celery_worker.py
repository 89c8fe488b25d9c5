"""What every Tessera Celery worker (Django-configured) connects: metrics, tracing, flushing.

- ``worker_init`` (the main process): serve ``/metrics`` on the Django setting
  TESSERA_WORKER_METRICS_PORT (0: not served) bound to TESSERA_WORKER_METRICS_BIND;
- ``worker_init`` and ``worker_process_init`` (each prefork child, as OpenTelemetry asks: a
  provider made before the fork is reused, anything else is set up in the child): tracing of
  tasks, HTTP calls and SQL, when the OTEL_* variables ask for it;
- ``worker_process_shutdown``: a pool child exits without running atexit handlers, so its
  last spans are sent first.
"""

from __future__ import annotations

from typing import Any

from .tracing import telemetry_configure, telemetry_flush, telemetry_instrument


def celery_worker_telemetry_connect(*, service_name: str) -> None:
    """Connect the handlers above to Celery's signals, for the worker named ``service_name``."""
    from celery import signals

    def metrics_serve(**_: Any) -> None:
        from django.conf import settings

        from .metrics import metrics_http_server_start

        metrics_http_server_start(
            port=settings.TESSERA_WORKER_METRICS_PORT, addr=settings.TESSERA_WORKER_METRICS_BIND
        )

    def tracing_start(**_: Any) -> None:
        if telemetry_configure(service_name=service_name):
            telemetry_instrument(celery=True, httpx=True, psycopg=True)

    def spans_flush(**_: Any) -> None:
        telemetry_flush()

    # weak=False: the handlers are local functions, kept alive by the signals alone.
    signals.worker_init.connect(metrics_serve, weak=False)
    signals.worker_init.connect(tracing_start, weak=False)
    signals.worker_process_init.connect(tracing_start, weak=False)
    signals.worker_process_shutdown.connect(spans_flush, weak=False)
