"""Run by test_sqlite_concurrency in a process of its own (`python -m tests.<this module>` in
monolith/), on a SQLite file: migrate, create
submitted jobs, then post their signed results all at once from several threads (each its own
database connection, as each web process has) through Django's request handling. Prints the
statuses as JSON."""

from __future__ import annotations

import json
import sys
import threading
import uuid

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from monolith.jobs.models import ProcessingJob, ProcessingJobStatus  # noqa: E402

from .processing_support import job_result_body, signed_headers  # noqa: E402


def main(callbacks: int) -> None:
    call_command("migrate", verbosity=0)
    jobs = [
        ProcessingJob.objects.create(
            kind="invoice_pdf",
            subject_type="order",
            subject_reference=f"TS-{number:06d}",
            request_key=f"invoice-{number}",
            idempotency_key=f"invoice-{number}",
            request_payload={},
            status=ProcessingJobStatus.SUBMITTED,
            job_id=uuid.uuid4(),
        )
        for number in range(callbacks)
    ]
    connection.close()
    start = threading.Barrier(callbacks)
    statuses: list[int] = []

    def deliver(job: ProcessingJob) -> None:
        body = job_result_body(job_id=job.job_id, subject=("order", job.subject_reference))
        headers = signed_headers(body, message_id=f"job-result-{job.job_id}")
        client = Client()
        start.wait()
        response = client.post(
            "/internal/v1/job-results", body, content_type="application/json", headers=headers
        )
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=deliver, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(sorted(statuses)))


if __name__ == "__main__":
    main(int(sys.argv[1]))
