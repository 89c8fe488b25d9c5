"""The jobs API (contract tag processing-jobs): parse, call one service, answer."""

import logging
import re
import uuid
from http import HTTPStatus

from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView
from tessera_contract.json_limits import json_media_type_accepted
from tessera_contract.models.codec import InvalidPayloadError, PayloadError, payload_encode
from tessera_jobs.request_checks import JobRequestUnsupportedError
from tessera_runtime.problems.answers import ProblemType
from tessera_runtime.problems.drf import ApiProblem

from processing.jobs.models import Job, JobStatus
from processing.jobs.selectors import job_get
from processing.jobs.services import (
    IdempotencyConflictError,
    JobNotCancellableError,
    job_cancel,
    job_create,
    job_request_decode,
    job_to_resource,
)

logger = logging.getLogger(__name__)
IDEMPOTENCY_KEY = re.compile(r"\A[\x21-\x7E]{1,255}\Z")


def _job_response(job: Job, status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    # msgspec encodes the contract model directly; DRF's renderer would re-encode it.
    return HttpResponse(
        payload_encode(job_to_resource(job)),
        status=status,
        headers=headers,
        content_type="application/json",
    )


class JobCollectionView(APIView):
    """POST /api/v1/jobs."""

    def post(self, request: Request) -> HttpResponse:
        # The body is decoded by the contract's codec, not a DRF parser: the media type is
        # checked here, as DRF would for a parser's.
        if not json_media_type_accepted(request.content_type):
            raise exceptions.UnsupportedMediaType(request.content_type)
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.match(key):
            raise ApiProblem(
                400,
                ProblemType.IDEMPOTENCY_KEY_MISSING,
                "Idempotency-Key must be 1-255 printable ASCII characters.",
                errors=[{"detail": "missing or malformed", "header": "Idempotency-Key"}],
            )
        try:
            job_request = job_request_decode(request.body)
        except InvalidPayloadError as error:
            raise ApiProblem(422, ProblemType.VALIDATION_FAILED, str(error)[:2000]) from None
        except PayloadError as error:
            raise ApiProblem(400, ProblemType.MALFORMED_REQUEST, str(error)[:2000]) from None
        try:
            # A broker that is down does not fail the request: the job and its message are
            # committed together (the outbox), and the message is published once it is back.
            creation = job_create(request=job_request, idempotency_key=key)
        except JobRequestUnsupportedError as error:
            raise ApiProblem(
                422, ProblemType.VALIDATION_FAILED, str(error), errors=error.errors
            ) from None
        except IdempotencyConflictError:
            raise ApiProblem(
                409,
                ProblemType.IDEMPOTENCY_CONFLICT,
                "This Idempotency-Key was used with another body.",
            ) from None
        if creation.created:
            return _job_response(creation.job, 201, {"Location": f"/api/v1/jobs/{creation.job.id}"})
        return _job_response(creation.job, 200)


def _job_or_404(job_id: str) -> Job:
    try:
        job = job_get(job_id=uuid.UUID(job_id))
    except ValueError:
        job = None
    if job is None:
        raise exceptions.NotFound("No such job.")
    return job


class JobDetailView(APIView):
    """GET /api/v1/jobs/{job_id}."""

    def get(self, request: Request, job_id: str) -> HttpResponse:
        return _job_response(_job_or_404(job_id), 200)


class JobCancelView(APIView):
    """POST /api/v1/jobs/{job_id}/cancel."""

    def post(self, request: Request, job_id: str) -> HttpResponse:
        try:
            job = job_cancel(job=_job_or_404(job_id))
        except JobNotCancellableError:
            raise ApiProblem(
                409, ProblemType.JOB_NOT_CANCELLABLE, "The job already finished."
            ) from None
        status = HTTPStatus.OK if job.status == JobStatus.CANCELLED else HTTPStatus.ACCEPTED
        return _job_response(job, status)
