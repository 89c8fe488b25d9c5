"""The attempt policy both runners follow, on the real kinds and Django's file storage.

No database and no Django project: the runner's part (a storage, the limits from its
settings, a checkpoint) is handed in, as the processing worker and the inline placement do.
"""

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
import pyvips
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from tessera_jobs.attempts import (
    AttemptOutcome,
    JobRetryPolicy,
    job_attempt_perform,
    job_attempts_exhausted,
)
from tessera_jobs.base import Checkpoint, JobLimits, JobRun
from tessera_jobs.errors import JobCancelledError, JobTransientError

# Django's default settings, no project: FileSystemStorage reads its upload permissions there.
if not settings.configured:
    settings.configure()

POLICY = JobRetryPolicy(max_attempts=3, backoff_base_seconds=2.0)


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def storage(media_root: Path) -> FileSystemStorage:
    return FileSystemStorage(location=media_root)


def progress_ignored(progress: int) -> None:
    """A runner that shows no progress and cannot cancel (the inline placement's)."""


def attempt(
    kind: str,
    payload: dict[str, Any],
    storage: FileSystemStorage,
    *,
    number: int = 1,
    image_max_pixels: int = 40_000_000,
    checkpoint: Checkpoint = progress_ignored,
) -> AttemptOutcome:
    run = JobRun(
        job_id=uuid.uuid4(),
        checkpoint=checkpoint,
        storage=storage,
        limits=JobLimits(image_max_pixels=image_max_pixels),
    )
    return job_attempt_perform(kind=kind, payload=payload, run=run, attempt=number, policy=POLICY)


def image_source(storage: FileSystemStorage, width: int, height: int) -> dict[str, Any]:
    data = pyvips.Image.black(width, height, bands=3).write_to_buffer(".png")
    location = storage.save("sources/upload.png", io.BytesIO(data))
    return {"source_location": location, "widths": [320], "formats": ["webp"]}


def report_source(storage: FileSystemStorage) -> dict[str, Any]:
    rows = [
        "order_number,placed_at,currency,total_minor",
        "TS-1,2026-10-02T12:00:00+00:00,EUR,1200",
        "TS-2,2026-11-02T12:00:00+00:00,EUR,900",
    ]
    location = storage.save("exports/orders.csv", io.BytesIO("\n".join(rows).encode()))
    return {
        "date_from": "2026-10-01",
        "date_to": "2026-10-31",
        "currency": "EUR",
        "source_location": location,
        "formats": ["csv"],
    }


def test_a_report_attempt_succeeds_with_its_csv_in_the_runners_storage(
    storage: FileSystemStorage, media_root: Path
) -> None:
    outcome = attempt("sales_report", report_source(storage), storage)

    assert outcome.status == "succeeded", outcome.error
    assert outcome.error is None
    (location,) = outcome.result_locations
    assert location["media_type"] == "text/csv"
    assert (media_root / location["location"]).read_text().splitlines() == [
        "order_number,placed_at,currency,total_minor",
        "TS-1,2026-10-02T12:00:00+00:00,EUR,1200",
        "TOTAL,1 orders,EUR,1200",
    ]


def test_the_largest_image_is_the_runners_limit_and_beyond_it_the_job_fails_at_once(
    storage: FileSystemStorage,
) -> None:
    payload = image_source(storage, 400, 300)

    refused = attempt("image_renditions", payload, storage, image_max_pixels=400 * 300 - 1)
    assert refused.status == "failed"
    assert refused.error == {
        "code": "image_too_large",
        "message": "The image has 120000 pixels, more than the limit of 119999.",
        "retryable": False,
    }
    assert refused.result_locations == []

    allowed = attempt("image_renditions", payload, storage, image_max_pixels=400 * 300)
    assert allowed.status == "succeeded", allowed.error


def test_a_crash_is_retried_after_a_doubling_backoff_then_dead_lettered(
    storage: FileSystemStorage, media_root: Path
) -> None:
    payload = report_source(storage)
    # A file where the results folder should be: every attempt fails to store its report.
    (media_root / "results").write_text("not a folder")

    first = attempt("sales_report", payload, storage, number=1)
    second = attempt("sales_report", payload, storage, number=2)
    last = attempt("sales_report", payload, storage, number=3)

    assert (first.status, first.retry_in_seconds) == ("retry", 2.0)
    assert (second.status, second.retry_in_seconds) == ("retry", 4.0)
    assert last.status == "dead_lettered"
    for outcome in (first, second, last):
        assert outcome.error is not None
        assert outcome.error["code"] == "processing_crashed"
        assert outcome.error["retryable"] is True
    assert first.error_summary().startswith("processing_crashed: ")


def test_a_dependency_the_runner_lost_for_now_is_retried(storage: FileSystemStorage) -> None:
    def database_gone(progress: int) -> None:
        raise JobTransientError("The job's database does not answer.")

    payload = image_source(storage, 400, 300)
    outcome = attempt("image_renditions", payload, storage, checkpoint=database_gone)

    assert outcome.status == "retry"
    assert outcome.error == {
        "code": "temporarily_unavailable",
        "message": "The job's database does not answer.",
        "retryable": True,
    }


def test_a_job_cancelled_while_it_runs_stops_at_its_checkpoint(
    storage: FileSystemStorage, media_root: Path
) -> None:
    def cancelled(progress: int) -> None:
        raise JobCancelledError()

    payload = {**image_source(storage, 1000, 750), "widths": [320, 640]}
    outcome = attempt("image_renditions", payload, storage, checkpoint=cancelled)

    assert outcome.status == "cancelled"
    assert outcome.error is None
    # The first width was made before the checkpoint; the second never was.
    made = [path.name for path in (media_root / "results").rglob("*") if path.is_file()]
    assert made == ["w320.webp"]


def test_attempts_used_up_by_runs_that_never_ended_dead_letter_the_job() -> None:
    assert job_attempts_exhausted(attempts_used=2, policy=POLICY) is None

    exhausted = job_attempts_exhausted(attempts_used=3, policy=POLICY)

    assert exhausted is not None
    assert exhausted.status == "dead_lettered"
    assert exhausted.error == {
        "code": "attempts_exhausted",
        "message": "The job did not finish in 3 attempts.",
        "retryable": False,
    }
