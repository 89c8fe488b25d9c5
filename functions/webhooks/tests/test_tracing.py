"""Tracing is optional in the functions: without OTEL_* the hot path imports none of it."""

import json
import os
import subprocess
import sys

from webhook_testing import CARRIER_SECRET, PAYMENT_SECRET


def test_without_otel_variables_the_application_loads_no_telemetry_library() -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    environment.update(
        PAYMENT_WEBHOOK_SECRETS=PAYMENT_SECRET, CARRIER_WEBHOOK_SECRETS=CARRIER_SECRET
    )
    probe = "import sys, json, tessera_functions.wsgi; print(json.dumps(sorted(sys.modules)))"

    completed = subprocess.run(
        [sys.executable, "-c", probe], env=environment, check=True, capture_output=True, text=True
    )

    loaded = json.loads(completed.stdout)
    heavy = ("opentelemetry", "prometheus_client", "pythonjsonlogger", "requests")
    assert [name for name in loaded if name.startswith(heavy)] == []
