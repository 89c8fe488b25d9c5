"""Dead letters: visible in the API and the admin, and staff can replay them."""

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from processing.jobs.models import Job, JobStatus
from processing.jobs.services import job_attempt_run, job_cancel, job_create, job_request_decode

from .conftest import authorization

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = {
    "kind": "sales_report",
    "subject": {"type": "sales_report", "reference": "oct"},
    "input": {
        "date_from": "2026-10-01",
        "date_to": "2026-10-31",
        "currency": "EUR",
        "source_location": "exports/orders.csv",
        "formats": ["csv"],
    },
}


def dead_lettered_job() -> Job:
    job = job_create(
        request=job_request_decode(json.dumps(REPORT).encode()), idempotency_key="dl"
    ).job
    # Every attempt died with its worker: the broker redelivers, and finds the attempts used up.
    Job.objects.filter(id=job.id).update(status=JobStatus.RUNNING, attempts=job.max_attempts)
    job_attempt_run(job_id=job.id, redelivered=True)
    job.refresh_from_db()
    return job


def test_a_job_whose_attempts_are_used_up_is_dead_lettered_and_shown_so_in_the_api():
    job = dead_lettered_job()
    shown = Client().get(f"/api/v1/jobs/{job.id}", HTTP_AUTHORIZATION=authorization()).json()
    assert shown["status"] == "dead_lettered"
    assert shown["error"]["code"] == "attempts_exhausted"
    assert shown["attempts"] == shown["max_attempts"]


def test_staff_replay_a_dead_letter_from_the_admin():
    job = dead_lettered_job()
    staff = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw")
    client = Client()
    client.force_login(staff)
    listing = client.get("/admin/jobs/job/?status__exact=dead_lettered")
    assert str(job.id) in listing.content.decode()
    client.post("/admin/jobs/job/", {"action": "replay", "_selected_action": [str(job.id)]})
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.error is None
    assert job.max_attempts > job.attempts


def test_staff_replaying_a_job_that_is_still_queued_are_told_and_nothing_changes():
    job = job_create(
        request=job_request_decode(json.dumps(REPORT).encode()), idempotency_key="queued"
    ).job
    staff = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw")
    client = Client()
    client.force_login(staff)
    answer = client.post(
        "/admin/jobs/job/",
        {"action": "replay", "_selected_action": [str(job.id)]},
        follow=True,
    )
    # Django capitalises the first letter of a message; starting with "Job" keeps the id as is.
    assert f"Job {job.id} is queued; not replayed." in answer.content.decode()
    assert "0 job(s) queued again." in answer.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.attempts == 0


def test_a_job_cancelled_while_running_stops_at_its_next_checkpoint(source_write):  # type: ignore[no-untyped-def]
    rows = "order_number,placed_at,currency,total_minor\n" + "".join(
        f"TS-{n:06d},2026-10-02T10:00:00+00:00,EUR,100\n" for n in range(120_000)
    )
    location = source_write("orders.csv", rows.encode())
    body = {**REPORT, "input": {**REPORT["input"], "source_location": location}}  # type: ignore[dict-item]
    job = job_create(
        request=job_request_decode(json.dumps(body).encode()), idempotency_key=str(uuid.uuid4())
    ).job
    Job.objects.filter(id=job.id).update(status=JobStatus.RUNNING)
    job_cancel(job=Job.objects.get(id=job.id))  # cancel_requested while "running"
    Job.objects.filter(id=job.id).update(status=JobStatus.QUEUED)  # the worker picks it up
    job_attempt_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.result_locations == []
