"""Celery tasks of the processing-jobs relay; the rules live in relay.py."""

from __future__ import annotations

from celery import shared_task

from . import relay
from .outbox import SUBMIT_TASK


@shared_task(name=SUBMIT_TASK, ignore_result=True)
def processing_jobs_submit(processing_job_ids: list[int]) -> None:
    """Submit outbox rows, one after the other. No Celery retry: a row processing could not
    take stays pending with its backoff in the database, where the worker's sweep finds it
    when it is due."""
    for processing_job_id in processing_job_ids:
        relay.processing_job_submit(processing_job_id=processing_job_id)


@shared_task(name=relay.SWEEP_TASK, ignore_result=True)
def processing_jobs_sweep() -> None:
    """Re-queue lost submissions and apply stranded results (queued by the worker's timer)."""
    relay.processing_jobs_sweep()
