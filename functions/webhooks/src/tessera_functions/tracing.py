"""Optional tracing for the webhook functions.

The Lambda zip carries no OpenTelemetry (``functions/README.md``: the package stays slim), so
tracing is on only where the SDK is installed (the ``telemetry`` extra: the local server, a
container) and the standard ``OTEL_*`` variables ask for it. Otherwise nothing is imported
and each request's span is a no-op.
"""

import logging

from tessera_runtime.telemetry.tracing import telemetry_configure, tracing_requested

__all__ = ["SERVICE_NAME", "webhook_tracing_start"]

logger = logging.getLogger(__name__)

SERVICE_NAME = "tessera-functions"


def webhook_tracing_start() -> bool:
    """Export this process's spans when asked and possible; return whether it does."""
    if not tracing_requested():
        return False
    try:
        return telemetry_configure(service_name=SERVICE_NAME)
    except ImportError:
        logger.warning(
            "OTEL_* variables ask for tracing but OpenTelemetry is not installed "
            "(install tessera-functions[telemetry]); serving without traces"
        )
        return False
