"""Telemetry costs nothing until asked: no tracing without OTEL_*, logs plain unless told.

That importing it loads none of its libraries is in test_runtime_import_weight.py."""

import json
import subprocess
import sys

import pytest
from tessera_runtime.telemetry.log_config import telemetry_logging
from tessera_runtime.telemetry.tracing import tracing_requested


@pytest.mark.parametrize(
    ("environment", "requested"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"}, False),
    ],
)
def test_tracing_is_requested_by_the_standard_variables_only(
    environment: dict[str, str], requested: bool
) -> None:
    assert tracing_requested(environment) is requested


def test_an_unknown_log_format_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="plain or json"):
        telemetry_logging(log_format="xml", level="INFO")


def test_json_log_lines_carry_the_current_trace_id() -> None:
    # A fresh interpreter: the tracer provider is process-wide, and tests share a process.
    script = """
import logging.config
from tessera_runtime.telemetry.log_config import telemetry_logging
from tessera_runtime.telemetry.tracing import telemetry_configure, traced_span
telemetry_configure(service_name="probe", environ={"OTEL_TRACES_EXPORTER": "console"})
logging.config.dictConfig(telemetry_logging(log_format="json", level="INFO"))
with traced_span("probe", traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"):
    logging.getLogger("probe").info("inside")
logging.getLogger("probe").info("outside")
"""
    completed = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    )
    inside, outside = (json.loads(line) for line in completed.stderr.splitlines()[:2])

    assert inside["message"] == "inside"
    assert inside["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert len(inside["span_id"]) == 16
    assert inside["span_id"] != "b7ad6b7169203331"  # the span's own id, not its parent's
    assert "trace_id" not in outside
