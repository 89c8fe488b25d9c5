"""What the webhook functions, the run scripts and every settings module import from the
runtime stays light: no web framework, no Celery or kombu, no OpenTelemetry (the Django, DRF,
broker and telemetry adapters load theirs only when imported), so a process with tracing off
pays nothing for it.

The contract's suite checks its own modules the same way (test_contract_import_weight.py); it
runs without the workspace's test support, so the probe is written in each suite."""

import json
import subprocess
import sys

import pytest

HEAVY = [
    "httpx",
    "jwt",
    "yaml",
    "django",
    "rest_framework",
    "celery",
    "kombu",
    "opentelemetry",
    "prometheus_client",
    "pythonjsonlogger",
    "requests",
    "tessera_contract.client",
]


def _modules_after_import(statement: str) -> set[str]:
    probe = f"import sys; {statement}; import json; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    return set(json.loads(completed.stdout))


@pytest.mark.parametrize(
    "statement",
    [
        "import tessera_runtime",
        "import tessera_runtime.problems.answers",
        "import tessera_runtime.problems.wsgi",
        "import tessera_runtime.health.answers",
        "import tessera_runtime.brokers",
        "import tessera_runtime.telemetry",
        "import tessera_runtime.telemetry.tracing",
        "import tessera_runtime.telemetry.log_config",
        "import tessera_runtime.telemetry.webhook_outcome",
        "import tessera_runtime.databases",
    ],
)
def test_the_light_modules_load_no_heavy_dependency(statement: str) -> None:
    loaded = _modules_after_import(statement)

    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_django_problem_adapter_loads_django_but_not_drf() -> None:
    loaded = _modules_after_import("import tessera_runtime.problems.django")

    assert "django" in loaded
    assert loaded.isdisjoint({"rest_framework", "httpx", "jwt"})
