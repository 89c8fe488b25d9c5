"""The internal API client against a real HTTP server on 127.0.0.1: retries, breaker, errors."""

import socket
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from contract_testing import RecordedRequest, ScriptedResponse, ScriptedServer
from tessera_contract.client import (
    CircuitBreakerPolicy,
    CircuitOpenError,
    IdempotencyConflictError,
    JobNotCancellableError,
    JobNotFoundError,
    JobResultCallbackClient,
    ProblemResponseError,
    ProcessingClient,
    RetryPolicy,
    ServiceUnavailableError,
    UnexpectedResponseError,
)
from tessera_contract.client.transport import ResilientTransport, retry_after_seconds
from tessera_contract.models import (
    ImageRenditionsInput,
    ImageRenditionsJobCreate,
    Job,
    JobCreateRequest,
    JobResult,
    JobStatus,
    ProblemDetails,
    ProblemType,
    ResultLocation,
    SubjectReference,
    payload_decode,
    payload_encode,
)
from tessera_contract.signing import StandardWebhookSigner, StandardWebhookVerifier
from tessera_contract.signing.service_tokens import (
    ServiceTokenIssuer,
    ServiceTokenKeyring,
    ServiceTokenVerifier,
)

KEYRING = ServiceTokenKeyring.parse("k1:" + "s" * 40)
CALLBACK_SECRET = "whsec_" + "Y2FsbGJhY2stc2VjcmV0LWZvci10aGUtdGVzdHM="
FAST_RETRIES = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)
JOB_ID = uuid.UUID("5b8c9f0e-2a41-4d7b-9c3e-1f2a3b4c5d6e")
NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
REQUEST = ImageRenditionsJobCreate(
    subject=SubjectReference(type="product_image", reference="42"),
    input=ImageRenditionsInput(
        source_location="products/originals/42/teapot.jpg", widths=[320, 640], formats=["webp"]
    ),
)


def _job(status: JobStatus = "queued") -> Job:
    return Job(
        job_id=JOB_ID,
        kind="image_renditions",
        status=status,
        progress=0,
        attempts=0,
        max_attempts=3,
        cancel_requested=status == "running",
        subject=REQUEST.subject,
        created_at=NOW,
        updated_at=NOW,
        started_at=None,
        finished_at=None,
        result_locations=[],
        error=None,
    )


def _json(status: int, payload: object, **headers: str) -> ScriptedResponse:
    return ScriptedResponse(
        status, payload_encode(payload), {"Content-Type": "application/json", **headers}
    )


def _problem(
    status: int, problem_type: ProblemType, title: str, **headers: str
) -> ScriptedResponse:
    problem = ProblemDetails(type=problem_type, title=title, status=status)
    return ScriptedResponse(
        status, payload_encode(problem), {"Content-Type": "application/problem+json", **headers}
    )


def _processing(server: ScriptedServer, **options: Any) -> ProcessingClient:
    options.setdefault("retry", FAST_RETRIES)
    return ProcessingClient(
        server.url,
        token_issuer=ServiceTokenIssuer(
            KEYRING, issuer="tessera-monolith", audience="tessera-processing"
        ),
        **options,
    )


def _token_is_valid(request: RecordedRequest) -> bool:
    verifier = ServiceTokenVerifier(
        KEYRING, audience="tessera-processing", issuers=["tessera-monolith"]
    )
    verifier.verify_authorization_header(request.headers.get("authorization"))
    return True


def test_creating_a_job_sends_a_valid_token_the_key_and_a_contract_body(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(_json(201, _job(), Location=f"/api/v1/jobs/{JOB_ID}"))

    with _processing(scripted_server) as client:
        created = client.job_create(REQUEST, idempotency_key="renditions-42")

    assert created.created is True
    assert created.job.job_id == JOB_ID
    (request,) = scripted_server.requests
    assert (request.method, request.path) == ("POST", "/api/v1/jobs")
    assert request.headers["idempotency-key"] == "renditions-42"
    assert _token_is_valid(request)
    assert payload_decode(request.body, JobCreateRequest) == REQUEST


def test_a_replayed_job_creation_reports_that_nothing_new_was_created(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(_json(200, _job("running")))

    with _processing(scripted_server) as client:
        created = client.job_create(REQUEST, idempotency_key="renditions-42")

    assert created.created is False
    assert created.job.status == "running"


def test_job_creation_is_retried_after_a_503_with_the_same_key_and_a_fresh_token(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(
        _problem(503, ProblemType.SERVICE_UNAVAILABLE, "Database unavailable"), _json(201, _job())
    )

    with _processing(scripted_server) as client:
        created = client.job_create(REQUEST, idempotency_key="renditions-42")

    assert created.created is True
    first, second = scripted_server.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.body == second.body
    assert first.headers["authorization"] != second.headers["authorization"]
    assert _token_is_valid(second)


def test_retries_wait_at_least_the_servers_retry_after(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        _problem(503, ProblemType.SERVICE_UNAVAILABLE, "Busy", **{"Retry-After": "1"}),
        _json(200, _job()),
    )

    started = time.monotonic()
    with _processing(scripted_server) as client:
        client.job_get(JOB_ID)

    assert time.monotonic() - started >= 1.0
    assert len(scripted_server.requests) == 2


def test_a_retry_after_longer_than_the_policy_allows_is_handed_to_the_caller(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(
        _problem(503, ProblemType.SERVICE_UNAVAILABLE, "Maintenance", **{"Retry-After": "120"})
    )

    started = time.monotonic()
    with _processing(scripted_server) as client, pytest.raises(ServiceUnavailableError) as raised:
        client.job_get(JOB_ID)

    assert raised.value.retry_after == 120
    assert raised.value.status == 503
    assert len(scripted_server.requests) == 1
    assert time.monotonic() - started < 1.0


def test_retries_are_bounded_and_jittered_within_the_backoff_cap(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(_problem(502, ProblemType.SERVICE_UNAVAILABLE, "Bad gateway"))

    started = time.monotonic()
    with _processing(scripted_server) as client, pytest.raises(ServiceUnavailableError) as raised:
        client.job_get(JOB_ID)

    assert len(scripted_server.requests) == FAST_RETRIES.max_attempts
    assert time.monotonic() - started < 2 * FAST_RETRIES.max_backoff + 0.5
    assert raised.value.status == 502


def test_a_slow_server_times_out_and_each_attempt_is_bounded(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(ScriptedResponse(200, payload_encode(_job()), delay=0.5))

    started = time.monotonic()
    with (
        _processing(scripted_server, timeout=httpx.Timeout(0.1)) as client,
        pytest.raises(ServiceUnavailableError, match="timed out"),
    ):
        client.job_get(JOB_ID)

    assert len(scripted_server.requests) == FAST_RETRIES.max_attempts
    assert time.monotonic() - started < 1.5


def test_an_unreachable_service_is_reported_as_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ProcessingClient(
        f"http://127.0.0.1:{port}",
        token_issuer=ServiceTokenIssuer(KEYRING, issuer="tessera-monolith", audience="x"),
        retry=FAST_RETRIES,
    )

    with client, pytest.raises(ServiceUnavailableError, match="transport error"):
        client.job_get(JOB_ID)


def test_an_idempotency_conflict_is_not_retried_and_carries_the_problem(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(
        _problem(409, ProblemType.IDEMPOTENCY_CONFLICT, "Key used with another body")
    )

    with _processing(scripted_server) as client, pytest.raises(IdempotencyConflictError) as raised:
        client.job_create(REQUEST, idempotency_key="renditions-42")

    assert len(scripted_server.requests) == 1
    assert raised.value.status == 409
    assert raised.value.problem is not None
    assert raised.value.problem.type == ProblemType.IDEMPOTENCY_CONFLICT


def test_an_unknown_job_is_reported_as_not_found(scripted_server: ScriptedServer) -> None:
    scripted_server.script(_problem(404, ProblemType.NOT_FOUND, "No such job"))

    with _processing(scripted_server) as client, pytest.raises(JobNotFoundError):
        client.job_get(JOB_ID)


def test_cancelling_a_running_job_returns_it_with_the_cancel_requested(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(_json(202, _job("running")))

    with _processing(scripted_server) as client:
        job = client.job_cancel(JOB_ID)

    assert job.cancel_requested is True
    assert scripted_server.requests[0].path == f"/api/v1/jobs/{JOB_ID}/cancel"


def test_cancelling_a_finished_job_is_refused(scripted_server: ScriptedServer) -> None:
    scripted_server.script(_problem(409, ProblemType.JOB_NOT_CANCELLABLE, "Already finished"))

    with _processing(scripted_server) as client, pytest.raises(JobNotCancellableError):
        client.job_cancel(JOB_ID)


def test_a_401_without_problem_details_is_still_a_precise_error(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(ScriptedResponse(401, b"nope", {"Content-Type": "text/plain"}))

    with _processing(scripted_server) as client, pytest.raises(ProblemResponseError) as raised:
        client.job_get(JOB_ID)

    assert raised.value.status == 401
    assert raised.value.problem is None


def test_a_success_body_that_breaks_the_contract_is_reported_as_drift(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(ScriptedResponse(200, b'{"job_id": "not-a-uuid"}'))

    with _processing(scripted_server) as client, pytest.raises(UnexpectedResponseError):
        client.job_get(JOB_ID)


def test_the_breaker_opens_after_repeated_failures_and_stops_sending(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(_problem(503, ProblemType.SERVICE_UNAVAILABLE, "Down"))
    client = _processing(
        scripted_server,
        retry=RetryPolicy(max_attempts=1),
        breaker=CircuitBreakerPolicy(fail_max=2, reset_timeout=0.3),
    )

    with client:
        for _ in range(2):
            with pytest.raises(ServiceUnavailableError) as raised:
                client.job_get(JOB_ID)
            assert not isinstance(raised.value, CircuitOpenError)
        assert client.breaker_state == "open"
        with pytest.raises(CircuitOpenError):
            client.job_get(JOB_ID)
        assert len(scripted_server.requests) == 2  # the third call was never sent

        scripted_server.script(_json(200, _job()))
        time.sleep(0.35)
        assert client.job_get(JOB_ID).job_id == JOB_ID  # the half-open trial call succeeds

    assert client.breaker_state == "closed"
    assert len(scripted_server.requests) == 3


def test_client_errors_do_not_count_towards_opening_the_breaker(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(_problem(404, ProblemType.NOT_FOUND, "No such job"))
    client = _processing(scripted_server, breaker=CircuitBreakerPolicy(fail_max=2))

    with client:
        for _ in range(4):
            with pytest.raises(JobNotFoundError):
                client.job_get(JOB_ID)

    assert client.breaker_state == "closed"


def test_a_non_idempotent_call_is_sent_once_even_when_it_fails(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(_problem(503, ProblemType.SERVICE_UNAVAILABLE, "Down"))
    transport = ResilientTransport(scripted_server.url, service_name="test", retry=FAST_RETRIES)

    with pytest.raises(ServiceUnavailableError):
        transport.request("POST", "/not-idempotent", idempotent=False, content=b"{}")
    transport.close()

    assert len(scripted_server.requests) == 1


def _result() -> JobResult:
    return JobResult(
        job_id=JOB_ID,
        kind="image_renditions",
        status="succeeded",
        subject=REQUEST.subject,
        attempts=1,
        finished_at=NOW,
        result_locations=[
            ResultLocation(
                name="w320.webp",
                location="products/renditions/42/w320.webp",
                media_type="image/webp",
                size_bytes=18_734,
                width=320,
            )
        ],
        error=None,
    )


def _callback(server: ScriptedServer) -> JobResultCallbackClient:
    return JobResultCallbackClient(
        server.url, signer=StandardWebhookSigner([CALLBACK_SECRET]), retry=FAST_RETRIES
    )


def test_a_job_result_is_delivered_signed_and_verifiable(scripted_server: ScriptedServer) -> None:
    verifier = StandardWebhookVerifier([CALLBACK_SECRET])

    def monolith(request: RecordedRequest) -> ScriptedResponse:
        verifier.verify(request.body, request.headers)
        return ScriptedResponse(204)

    scripted_server.script(monolith)

    with _callback(scripted_server) as client:
        client.job_result_deliver(_result())

    (request,) = scripted_server.requests
    assert request.path == "/internal/v1/job-results"
    assert request.headers["webhook-id"] == f"job-result-{JOB_ID}"
    assert payload_decode(request.body, JobResult) == _result()


def test_a_retried_job_result_keeps_its_id_so_the_monolith_applies_it_once(
    scripted_server: ScriptedServer,
) -> None:
    verifier = StandardWebhookVerifier([CALLBACK_SECRET])
    verified_ids: list[str] = []

    def monolith(request: RecordedRequest) -> ScriptedResponse:
        verified_ids.append(verifier.verify(request.body, request.headers).message_id)
        return ScriptedResponse(204)

    scripted_server.script(_problem(503, ProblemType.SERVICE_UNAVAILABLE, "Busy"), monolith)

    with _callback(scripted_server) as client:
        client.job_result_deliver(_result())

    assert len(scripted_server.requests) == 2
    assert verified_ids == [f"job-result-{JOB_ID}"]
    assert scripted_server.requests[0].headers["webhook-id"] == verified_ids[0]


def test_a_refused_job_result_raises_with_the_problem(scripted_server: ScriptedServer) -> None:
    scripted_server.script(_problem(401, ProblemType.SIGNATURE_INVALID, "Bad signature"))

    with _callback(scripted_server) as client, pytest.raises(ProblemResponseError) as raised:
        client.job_result_deliver(_result())

    assert raised.value.status == 401
    assert len(scripted_server.requests) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), (" 0 ", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_reads_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_reads_an_http_date() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
