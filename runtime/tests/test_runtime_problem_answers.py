"""The one problem+json builder: its answers fit the contract's schema, and only its types."""

import json
from pathlib import Path

import jsonschema
import pytest
from tessera_contract.models.codec import payload_decode
from tessera_contract.models.problems import ProblemDetails
from tessera_runtime.problems.answers import (
    PROBLEM_MEDIA_TYPE,
    RETRY_AFTER_SECONDS,
    ProblemType,
    problem_answer,
)
from tessera_runtime.problems.wsgi import problem_wsgi_answer

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "contract" / "schemas" / "problem-details.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())


def _validate(body: bytes) -> dict[str, object]:
    problem: dict[str, object] = json.loads(body)
    jsonschema.Draft202012Validator(SCHEMA).validate(problem)
    return problem


def test_a_problem_answer_is_problem_json_that_fits_the_schema() -> None:
    answer = problem_answer(
        422,
        ProblemType.VALIDATION_FAILED,
        "The request has invalid fields.",
        errors=[{"detail": "required", "pointer": "/quantity"}],
    )

    assert answer.status == 422
    assert answer.headers == {"Content-Type": PROBLEM_MEDIA_TYPE}
    assert _validate(answer.body) == {
        "type": "/problems/validation-failed",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "The request has invalid fields.",
        "errors": [{"detail": "required", "pointer": "/quantity"}],
    }
    payload_decode(answer.body, ProblemDetails)


def test_long_texts_are_cut_to_the_schema_not_refused() -> None:
    answer = problem_answer(
        400,
        ProblemType.MALFORMED_REQUEST,
        "x" * 5000,
        errors=[{"detail": "y" * 900, "header": "h" * 300}] * 150,
    )

    problem = _validate(answer.body)

    assert len(str(problem["detail"])) == 2000
    assert isinstance(problem["errors"], list)
    assert len(problem["errors"]) == 100


def test_a_503_always_tells_when_to_retry() -> None:
    default = problem_answer(503, ProblemType.SERVICE_UNAVAILABLE)
    chosen = problem_answer(503, ProblemType.SERVICE_UNAVAILABLE, headers={"Retry-After": "30"})

    assert default.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert chosen.headers["Retry-After"] == "30"


def test_a_type_outside_the_contract_is_refused() -> None:
    with pytest.raises(TypeError, match="not a contract ProblemType"):
        problem_answer(400, "/problems/invented")  # type: ignore[arg-type]


def test_a_success_status_is_not_a_problem() -> None:
    with pytest.raises(ValueError, match="error status"):
        problem_answer(200, ProblemType.NOT_FOUND)


def test_the_wsgi_answer_carries_content_length_and_extra_headers() -> None:
    status, headers, body = problem_wsgi_answer(
        405, ProblemType.METHOD_NOT_ALLOWED, headers={"Allow": "POST"}
    )

    assert status == 405
    assert dict(headers) == {
        "Content-Type": PROBLEM_MEDIA_TYPE,
        "Allow": "POST",
        "Content-Length": str(len(body)),
    }
    assert _validate(body)["type"] == "/problems/method-not-allowed"
