"""An attempt the database broke off is run again by Celery's retry of its message.

The attempt marked its job running and counted itself before the database went away; the task
then raised OperationalError and Celery retried it (autoretry_for). That retry is the same
delivery, not a second publication of the message: it must run the job, not drop it as a copy
and leave it running for good (the fault suite's PostgreSQL restart found it so).
"""

import json

import msgspec
import pytest
from django.utils import timezone
from processing.jobs.models import Job, JobStatus
from processing.jobs.services import job_create, job_request_decode
from processing.jobs.tasks import job_run_task
from tessera_contract.models.jobs import JobQueued

from .test_dead_letters import REPORT

pytestmark = pytest.mark.django_db(transaction=True)


def interrupted_job() -> tuple[Job, dict[str, object]]:
    """A job whose first attempt was counted and marked running, then broken off, and the
    message of that attempt."""
    job = job_create(
        request=job_request_decode(json.dumps(REPORT).encode()), idempotency_key="cut"
    ).job
    message = msgspec.to_builtins(
        JobQueued(job_id=job.id, kind="sales_report", attempt=1, enqueued_at=timezone.now())
    )
    Job.objects.filter(id=job.id).update(status=JobStatus.RUNNING, attempts=1)
    return job, message


def test_celerys_retry_of_a_broken_off_attempt_runs_the_job_again() -> None:
    job, message = interrupted_job()

    job_run_task.apply(args=[message], retries=1)

    job.refresh_from_db()
    assert job.status != JobStatus.RUNNING  # the report's source is missing: it ran and failed
    assert job.attempts == 2


def test_a_second_publication_of_a_running_jobs_message_is_still_dropped() -> None:
    job, message = interrupted_job()

    job_run_task.apply(args=[message])

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.attempts == 1
