"""Celery tasks: thin wrappers that decode the contract's message and call one service."""

from typing import Any

import msgspec
from celery import shared_task
from tessera_contract.client.errors import ServiceUnavailableError
from tessera_contract.models.jobs import JobQueued, JobResult

from processing.jobs.services import job_attempt_run, job_result_deliver


@shared_task(name="processing.job_run")
def job_run_task(message: dict[str, Any]) -> None:
    """Run one attempt of the job in an asyncapi ``jobQueued`` message."""
    queued = msgspec.convert(message, JobQueued)
    job_attempt_run(job_id=queued.job_id)


@shared_task(
    name="processing.job_result_deliver",
    autoretry_for=(ServiceUnavailableError,),
    retry_backoff=2,
    retry_backoff_max=600,
    max_retries=12,
)
def job_result_deliver_task(message: dict[str, Any]) -> None:
    """Deliver an asyncapi ``jobResult`` to the monolith, backing off while it is unavailable."""
    job_result_deliver(result=msgspec.convert(message, JobResult))
