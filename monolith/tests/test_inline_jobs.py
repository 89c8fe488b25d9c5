"""What only the inline placement has to prove: its own attempts, retries and refusals.

The job kinds run in this process (PROCESSING_PLACEMENT=inline); failures are real ones (a
storage that cannot take the results, a request the kinds refuse), not stand-ins.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from tessera_contract.models.base import SubjectReference
from tessera_contract.models.jobs import SalesReportInput, SalesReportJobCreate

from monolith.jobs.inline_placement import JOB_ID_NAMESPACE
from monolith.jobs.models import ProcessingJob, ProcessingJobStatus
from monolith.jobs.outbox import processing_job_request, processing_job_retry
from monolith.jobs.relay import processing_job_submit
from monolith.orders.services import order_mark_paid

from .factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def inline(settings, media_root):
    settings.PROCESSING_PLACEMENT = "inline"
    settings.PROCESSING_JOB_MAX_ATTEMPTS = 3
    return settings


def paid_order_invoice_job(product, shopper) -> ProcessingJob:
    order = make_order((product, 1), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi_inline", cause="paid")
    return ProcessingJob.objects.get(kind="invoice_pdf")


def due_now(job: ProcessingJob) -> None:
    """Let the backoff pass, as the sweep's clock would."""
    ProcessingJob.objects.filter(pk=job.pk).update(next_attempt_at=None)


def test_a_job_whose_results_cannot_be_stored_backs_off_then_is_dead_lettered(
    inline, media_root, product, shopper
):
    # A file where the results folder should be: every attempt fails to store its PDF.
    (media_root / "results").write_text("not a folder")
    job = paid_order_invoice_job(product, shopper)

    for attempt in (1, 2):
        delay = processing_job_submit(processing_job_id=job.pk)
        job.refresh_from_db()
        assert delay is not None
        assert delay > 0
        assert (job.status, job.submit_attempts) == (ProcessingJobStatus.PENDING, attempt)
        assert job.last_error.startswith("processing_crashed: ")
        assert job.next_attempt_at is not None
        due_now(job)

    assert processing_job_submit(processing_job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.FAILED
    assert job.processing_attempts == 3
    assert job.last_error.startswith("processing_crashed: ")
    assert job.job_id == uuid.uuid5(JOB_ID_NAMESPACE, job.idempotency_key)

    # Storage repaired, staff retry: a new key, a new job id, and this time the PDF.
    (media_root / "results").unlink()
    retried = processing_job_retry(job=job)
    assert processing_job_submit(processing_job_id=retried.pk) is None
    retried.refresh_from_db()
    assert retried.status == ProcessingJobStatus.SUCCEEDED, retried.last_error
    assert retried.job_id != job.job_id
    location = retried.result_locations[0]["location"]
    assert (media_root / location).read_bytes().startswith(b"%PDF-")


def test_a_row_whose_worker_died_in_its_last_attempt_is_dead_lettered_without_running_again(
    inline, media_root, product, shopper
):
    job = paid_order_invoice_job(product, shopper)
    # Three claims whose runs never ended (the worker was killed mid-job, the lease passed).
    ProcessingJob.objects.filter(pk=job.pk).update(submit_attempts=3)

    assert processing_job_submit(processing_job_id=job.pk) is None

    job.refresh_from_db()
    assert (job.status, job.submit_attempts, job.processing_attempts) == (
        ProcessingJobStatus.FAILED,
        3,
        3,
    )
    assert job.last_error == "attempts_exhausted: The job did not finish in 3 attempts."
    assert not (media_root / "results").exists()


def test_a_row_another_relay_already_claimed_is_not_run_twice(inline, product, shopper):
    job = paid_order_invoice_job(product, shopper)
    stale = ProcessingJob.objects.get(pk=job.pk)  # what a second, slower relay had read

    assert processing_job_submit(processing_job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.submit_attempts) == (ProcessingJobStatus.SUCCEEDED, 1)

    # The other relay's copy of the row is out of date: its claim must find nothing to run.
    from monolith.jobs.placement import job_placement

    assert job_placement().job_submit(stale) is None
    job.refresh_from_db()
    assert (job.status, job.submit_attempts) == (ProcessingJobStatus.SUCCEEDED, 1)


def test_a_request_the_kinds_refuse_fails_with_the_same_reasons_the_service_gives(inline):
    report = SalesReportJobCreate(
        subject=SubjectReference(type="sales_report", reference="SR-1"),
        input=SalesReportInput(
            date_from=date(2026, 5, 1),
            date_to=date(2026, 4, 1),
            currency="EUR",
            source_location="exports/none.csv",
            formats=["csv", "pdf"],
        ),
    )
    job = processing_job_request(request=report, request_key="inline-refused-report")

    assert processing_job_submit(processing_job_id=job.pk) is None

    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.FAILED
    assert job.job_id is None
    assert "/input/formats/1: Only csv reports are produced." in job.last_error
    assert "/input/date_to: date_to is before date_from." in job.last_error
