"""Tracing: the tracer provider, library instrumentation, spans and the current trace context.

Needs the ``telemetry`` extra (OpenTelemetry API/SDK and the OTLP/HTTP exporter) only once
tracing is on. Importing this module imports none of them: each function imports what it needs
when called, so a process with tracing off (the webhook functions on Lambda) pays nothing.

Tracing is on when the standard OpenTelemetry variables ask for it (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_TRACES_EXPORTER``) and ``OTEL_SDK_DISABLED`` is
not ``true``; every other ``OTEL_*`` variable the SDK reads (``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*``,
``OTEL_EXPORTER_OTLP_HEADERS``...) works as documented by OpenTelemetry.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.trace import Span
    from tessera_contract.models.base import TraceContext

__all__ = [
    "telemetry_configure",
    "telemetry_flush",
    "telemetry_instrument",
    "trace_context_current",
    "traced_span",
    "tracing_enabled",
    "tracing_requested",
]

logger = logging.getLogger(__name__)

# Health probes and scrapes arrive every few seconds: tracing them would bury real traffic.
DEFAULT_EXCLUDED_URLS = "healthz,readyz,metrics"

_lock = threading.Lock()
_configured = False


def tracing_requested(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for spans to be exported (the standard OTEL_* names)."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters == "none":
        return False
    return bool(
        exporters
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    )


def tracing_enabled() -> bool:
    """Whether :func:`telemetry_configure` installed a tracer provider in this process."""
    return _configured


def telemetry_configure(*, service_name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Install the tracer provider that exports this process's spans; return whether it did.

    Without the OTEL_* variables this does nothing (no SDK import, no thread). Safe to call
    more than once: the first call wins. A provider installed before a fork keeps working in
    the child (the SDK restarts its export thread after ``fork``), which is what gunicorn and
    Celery's prefork pool need. ``OTEL_SERVICE_NAME`` overrides ``service_name``.
    """
    global _configured
    env = os.environ if environ is None else environ
    if not tracing_requested(env):
        return False
    with _lock:
        if _configured:
            return True
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = env.get("OTEL_SERVICE_NAME", "").strip() or service_name
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        for exporter in _span_exporters(env):
            provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _configured = True
    return True


def _span_exporters(env: Mapping[str, str]) -> list[Any]:
    names = [
        name.strip()
        for name in (env.get("OTEL_TRACES_EXPORTER", "").lower() or "otlp").split(",")
        if name.strip()
    ]
    exporters: list[Any] = []
    for name in names:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # Reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT itself.
            exporters.append(OTLPSpanExporter())
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        else:
            logger.warning("OTEL_TRACES_EXPORTER=%s is not supported; use otlp or console", name)
    return exporters


def telemetry_flush(timeout_millis: int = 5000) -> None:
    """Export the spans still buffered (a process about to exit without running atexit)."""
    if not _configured:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if force_flush is not None:
        force_flush(timeout_millis)


def telemetry_instrument(
    *, django: bool = False, celery: bool = False, httpx: bool = False, psycopg: bool = False
) -> None:
    """Turn on the library instrumentations a component uses, once, when tracing is on.

    - django: a server span per request, continuing the caller's ``traceparent``; call it
      before the WSGI application is built (it adds its middleware to the settings);
    - celery: a span per task sent and run, the context travelling in the task's headers;
    - httpx: a client span per call and the ``traceparent`` header on it (the contract client);
    - psycopg: a span per SQL statement.
    """
    if not _configured:
        return
    if django:
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        _instrument_once(
            DjangoInstrumentor(),
            excluded_urls=os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS),
        )
    if celery:
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        _instrument_once(CeleryInstrumentor())
    if httpx:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        _instrument_once(HTTPXClientInstrumentor())
    if psycopg:
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

        _instrument_once(PsycopgInstrumentor())


def _instrument_once(instrumentor: Any, **options: Any) -> None:
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(**options)


@contextmanager
def traced_span(
    name: str,
    *,
    traceparent: str | None = None,
    tracestate: str | None = None,
    kind: str = "internal",
    attributes: Mapping[str, str | int | bool] | None = None,
) -> Iterator[Span | None]:
    """Run the block in a span, continuing ``traceparent`` when given (a message's context).

    Yields None, at no cost, when tracing is off in this process. ``kind`` is an OpenTelemetry
    span kind in lower case (``server``, ``consumer``, ``producer``...).
    """
    if not _configured:
        yield None
        return
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {"traceparent": traceparent} if traceparent else {}
    if traceparent and tracestate:
        carrier["tracestate"] = tracestate
    # Without a traceparent the span is a child of the current span, if any.
    context = TraceContextTextMapPropagator().extract(carrier) if traceparent else None
    tracer = trace.get_tracer("tessera")
    with tracer.start_as_current_span(
        name,
        context=context,
        kind=trace.SpanKind[kind.upper()],
        attributes=dict(attributes or {}),
    ) as span:
        yield span


def trace_context_current() -> TraceContext | None:
    """The current span as the contract's ``TraceContext``, to put into a queue message."""
    if not _configured:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    from tessera_contract.models.base import TraceContext

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    if "traceparent" not in carrier:
        return None
    if carrier.get("tracestate"):
        return TraceContext(traceparent=carrier["traceparent"], tracestate=carrier["tracestate"])
    return TraceContext(traceparent=carrier["traceparent"])
