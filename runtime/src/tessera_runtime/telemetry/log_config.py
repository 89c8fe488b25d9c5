"""The logging configuration of every component: plain text, or JSON lines with trace ids.

Only the standard library is imported here, so settings modules call it freely; the JSON
formatter (``logs.TraceJsonFormatter``, the ``telemetry`` extra) is named by its dotted path and
loaded by ``logging.config`` only when ``TESSERA_LOG_FORMAT=json`` asks for it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["telemetry_logging"]


def telemetry_logging(*, log_format: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for a component: plain text, or JSON with trace ids.

    ``log_format`` is ``plain`` (the default of ``make run``: readable in a terminal) or
    ``json`` (one object per line, with ``trace_id`` and ``span_id`` when a span is current,
    for log shippers).
    """
    if log_format not in {"plain", "json"}:
        raise ValueError(f"TESSERA_LOG_FORMAT must be plain or json, not {log_format!r}")
    formatters: dict[str, Any] = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "tessera_runtime.telemetry.logs.TraceJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {log_format: formatters[log_format]},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": level},
    }
