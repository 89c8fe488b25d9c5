"""`POST /internal/v1/job-results`: the processing service's signed job-result callback.

Verify, then parse, then record: the Standard Webhooks signature is checked over the raw
bytes before anything reads them, the body is then decoded into the contract's JobResult,
and the result is recorded once per job id. Answers as the contract says: 204 (also for a
repeated delivery), 400/413 problems for bad input, 401 without details for a bad signature,
405 for another method, 503 with Retry-After when the database is failing.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from tessera_contract.models.codec import MalformedPayloadError, PayloadError, payload_decode
from tessera_contract.models.jobs import JobResult
from tessera_contract.signing import SignatureError, StandardWebhookVerifier, secret_list_parse
from tessera_runtime.problems.answers import ProblemType
from tessera_runtime.problems.django import problem_response

from .results import job_result_record

logger = logging.getLogger(__name__)

# The contract's limit on callbacks (PayloadTooLarge): a job result is a few KiB at most.
MAX_BODY_BYTES = 256 * 1024


def _too_large() -> HttpResponse:
    return problem_response(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        ProblemType.PAYLOAD_TOO_LARGE,
        f"The body is larger than {MAX_BODY_BYTES} bytes.",
    )


@lru_cache(maxsize=4)
def _verifier(secrets: str, tolerance_seconds: int) -> StandardWebhookVerifier:
    return StandardWebhookVerifier(secret_list_parse(secrets), tolerance_seconds=tolerance_seconds)


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


@csrf_exempt  # machine-to-machine and signed: the signature is what authenticates it
def job_result_receive(request: HttpRequest) -> HttpResponse:
    """Receive the result of a processing job (operation monolith_job_result_receive)."""
    if request.method != "POST":
        # Not require_POST: its 405 has an empty body, and an API's errors are problems.
        return problem_response(
            HTTPStatus.METHOD_NOT_ALLOWED,
            ProblemType.METHOD_NOT_ALLOWED,
            "Job results are POSTed.",
            headers={"Allow": "POST"},
        )
    secrets = settings.JOB_RESULT_CALLBACK_SECRETS
    if not secrets:
        logger.error("JOB_RESULT_CALLBACK_SECRETS is not set: job results cannot be verified")
        return problem_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            ProblemType.SERVICE_UNAVAILABLE,
            "Job results cannot be received right now.",
        )
    length = _content_length(request)
    if length is None:
        return problem_response(
            HTTPStatus.BAD_REQUEST, ProblemType.MALFORMED_REQUEST, "Content-Length is invalid."
        )
    if length > MAX_BODY_BYTES:
        return _too_large()
    try:
        body = request.body
    except RequestDataTooBig:
        return _too_large()
    if len(body) > MAX_BODY_BYTES:  # sent without a Content-Length
        return _too_large()
    try:
        verifier = _verifier(secrets, settings.JOB_RESULT_TOLERANCE_SECONDS)
    except ValueError:
        logger.error("JOB_RESULT_CALLBACK_SECRETS holds a secret that is not whsec_<base64>")
        return problem_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            ProblemType.SERVICE_UNAVAILABLE,
            "Job results cannot be received right now.",
        )
    try:
        delivery = verifier.verify(body, request.headers)
    except SignatureError:
        # No detail: which check failed would help a forger more than an honest sender.
        return problem_response(HTTPStatus.UNAUTHORIZED, ProblemType.SIGNATURE_INVALID)
    content_type = request.content_type or ""
    if content_type != "application/json":
        return problem_response(
            HTTPStatus.BAD_REQUEST,
            ProblemType.MALFORMED_REQUEST,
            "The body must be application/json.",
        )
    try:
        result = payload_decode(body, JobResult)
    except MalformedPayloadError as error:
        return problem_response(HTTPStatus.BAD_REQUEST, ProblemType.MALFORMED_REQUEST, str(error))
    except PayloadError as error:
        return problem_response(HTTPStatus.BAD_REQUEST, ProblemType.VALIDATION_FAILED, str(error))
    if delivery.message_id != f"job-result-{result.job_id}":
        return problem_response(
            HTTPStatus.BAD_REQUEST,
            ProblemType.MALFORMED_REQUEST,
            "webhook-id must be job-result-<job_id> of the result in the body.",
        )
    try:
        job_result_record(result=result, webhook_id=delivery.message_id)
    except DatabaseError:
        logger.exception("could not record the result of job %s", result.job_id)
        return problem_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            ProblemType.SERVICE_UNAVAILABLE,
            "The result could not be recorded; nothing was applied.",
        )
    return HttpResponse(status=HTTPStatus.NO_CONTENT)
