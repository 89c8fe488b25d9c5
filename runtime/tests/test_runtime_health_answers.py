"""The shared /healthz and /readyz bodies, as every component builds them."""

import json
from pathlib import Path

from jsonschema import Draft202012Validator
from tessera_contract.models.codec import payload_encode
from tessera_runtime.health.answers import (
    liveness,
    liveness_answer,
    readiness_answer,
    readiness_run,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "contract" / "schemas"


def conforms(body: bytes, schema_file: str) -> bool:
    validator = Draft202012Validator(json.loads((SCHEMAS / schema_file).read_text()))
    return not list(validator.iter_errors(json.loads(body)))


def passing() -> None:
    return None


def refusing() -> None:
    raise ConnectionRefusedError("10.0.0.7:5432 password=hunter2")


def test_readiness_is_ready_only_when_every_check_passes() -> None:
    ready = readiness_run(component="monolith", version="1.0", checks={"db": passing})
    assert ready.status == "ready"
    mixed = readiness_run(
        component="monolith", version="1.0", checks={"db": passing, "broker": refusing}
    )
    assert mixed.status == "unavailable"
    assert [(check.name, check.status) for check in mixed.checks] == [
        ("db", "ok"),
        ("broker", "failing"),
    ]


def test_a_failing_check_names_the_error_but_never_its_message() -> None:
    report = readiness_run(component="functions", version="1.0", checks={"broker": refusing})
    encoded = payload_encode(report)
    assert b"ConnectionRefusedError" in encoded
    assert b"hunter2" not in encoded
    assert b"10.0.0.7" not in encoded


def test_bodies_conform_to_the_shared_schemas() -> None:
    assert conforms(payload_encode(liveness(component="sandbox", version="0.1.0")), "liveness.json")
    report = readiness_run(component="processing", version="1.0", checks={"db": refusing})
    assert conforms(payload_encode(report), "readiness.json")


def test_readiness_answers_503_with_retry_after_only_when_a_check_fails() -> None:
    ready = readiness_answer(component="monolith", version="1.0", checks={"db": passing})
    assert (ready.status, ready.headers) == (200, {})
    failing = readiness_answer(component="monolith", version="1.0", checks={"db": refusing})
    assert (failing.status, failing.headers) == (503, {"Retry-After": "5"})
    assert conforms(failing.body, "readiness.json")
    alive = liveness_answer(component="monolith", version="1.0")
    assert alive.status == 200
    assert conforms(alive.body, "liveness.json")
