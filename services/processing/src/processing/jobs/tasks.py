"""Celery tasks: thin wrappers that decode the contract's message and call one service."""

from contextlib import AbstractContextManager
from typing import Any

import msgspec
from celery import Task, shared_task
from django.db import InterfaceError, OperationalError
from tessera_contract.client.errors import ServiceUnavailableError
from tessera_contract.messaging import JOB_RESULT_DELIVER_TASK, JOB_RUN_TASK
from tessera_contract.models.base import TraceContext
from tessera_contract.models.jobs import JobQueued, JobResult
from tessera_runtime.telemetry.tracing import traced_span

from processing.jobs.services import job_attempt_run, job_result_deliver


@shared_task(
    name=JOB_RUN_TASK,
    bind=True,
    # A database that does not answer (restarting, failing over) rolled the attempt back:
    # run it again later. Without this the failed task was acknowledged and its job stayed
    # queued for good (the fault suite's PostgreSQL restart left two invoices so).
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=30,
)
def job_run_task(self: Task, message: dict[str, Any]) -> None:
    """Run one attempt of the job in an asyncapi ``jobQueued`` message."""
    queued = msgspec.convert(message, JobQueued)
    # The broker's flag tells a redelivery (its worker died) from a second publication. Celery's
    # own retry (autoretry_for above) is this delivery again too: the attempt the database
    # broke off left the job "running", and dropping the retry as a copy left it so for good
    # (the fault suite's PostgreSQL restart did).
    redelivered = (
        bool((self.request.delivery_info or {}).get("redelivered")) or self.request.retries > 0
    )
    with _message_span(f"job {queued.kind}", queued.trace, job_id=str(queued.job_id)):
        job_attempt_run(job_id=queued.job_id, attempt=queued.attempt, redelivered=redelivered)


@shared_task(
    name=JOB_RESULT_DELIVER_TASK,
    autoretry_for=(ServiceUnavailableError,),
    retry_backoff=2,
    retry_backoff_max=600,
    max_retries=12,
)
def job_result_deliver_task(message: dict[str, Any]) -> None:
    """Deliver an asyncapi ``jobResult`` to the monolith, backing off while it is unavailable."""
    result = msgspec.convert(message, JobResult)
    with _message_span(f"job result {result.kind}", result.trace, job_id=str(result.job_id)):
        job_result_deliver(result=result)


def _message_span(name: str, trace: object, *, job_id: str) -> AbstractContextManager[object]:
    # The message's own trace context (asyncapi: jobQueued.trace, jobResult.trace) wins; a
    # message without one continues the trace Celery's headers carried, if any.
    traceparent = trace.traceparent if isinstance(trace, TraceContext) else None
    return traced_span(name, traceparent=traceparent, attributes={"tessera.job_id": job_id})
