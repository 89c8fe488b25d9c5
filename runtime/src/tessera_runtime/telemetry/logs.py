"""JSON log lines that carry the trace they were written in (``TESSERA_LOG_FORMAT=json``)."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

__all__ = ["TraceJsonFormatter"]


class TraceJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, plus ``trace_id`` and ``span_id`` of the current span.

    The ids are written as W3C spells them (32 and 16 lower-case hex digits), so a log line
    is found from a trace in Jaeger and the other way round.
    """

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        """Add the standard fields, then the current span's ids when there is one."""
        super().add_fields(log_data, record, message_dict)
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            log_data["trace_id"] = trace.format_trace_id(context.trace_id)
            log_data["span_id"] = trace.format_span_id(context.span_id)
