"""The one problem+json module: its types are the contract's, and its answers fit the schema."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
from tessera_contract.models.codec import payload_decode
from tessera_contract.models.problems import ProblemDetails
from tessera_contract.problems import (
    PROBLEM_MEDIA_TYPE,
    RETRY_AFTER_SECONDS,
    ProblemType,
    problem_answer,
)
from tessera_contract.problems.wsgi import problem_wsgi_answer

CONTRACT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((CONTRACT / "schemas" / "problem-details.json").read_text())
CONTRACT_DOC = CONTRACT.parent / "docs" / "contract.md"


def _validate(body: bytes) -> dict[str, object]:
    problem: dict[str, object] = json.loads(body)
    jsonschema.Draft202012Validator(SCHEMA).validate(problem)
    return problem


def test_the_schema_lists_exactly_the_problem_types_of_the_enum() -> None:
    listed = SCHEMA["properties"]["type"]["x-extensible-enum"]

    assert sorted(listed) == sorted(problem_type.value for problem_type in ProblemType)
    assert len(listed) == len(set(listed)), "a type is listed twice"


def test_docs_name_every_problem_type() -> None:
    documented = set(re.findall(r"/problems/[a-z-]+", CONTRACT_DOC.read_text()))

    assert {problem_type.value for problem_type in ProblemType} <= documented


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
