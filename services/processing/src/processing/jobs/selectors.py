"""Reads of jobs."""

import uuid

from django.db.models import QuerySet

from processing.jobs.models import Job


def job_get(*, job_id: uuid.UUID) -> Job | None:
    """The job with ``job_id``, or None."""
    return Job.objects.filter(id=job_id).first()


def job_get_by_idempotency_key(*, key: str) -> Job | None:
    """The job created with ``key``, or None."""
    return Job.objects.filter(idempotency_key=key).first()


def job_list_dead_lettered() -> QuerySet[Job]:
    """Jobs that exhausted their attempts, newest first."""
    return Job.objects.filter(status="dead_lettered")
