"""The processing-jobs outbox: what asks for a job, how the relay behaves when processing is
down, staff retries, and sales reports requested from the admin."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from monolith.catalog.catalog_version import catalog_version_move
from monolith.catalog.models import ProductImage
from monolith.jobs.models import ProcessingJob, ProcessingJobStatus, SalesReportRequest
from monolith.jobs.outbox import processing_job_retry
from monolith.jobs.relay import processing_job_submit, processing_jobs_sweep
from monolith.jobs.service_placement import processing_retry_delay
from monolith.orders.services import order_mark_paid

from .factories import make_order
from .processing_support import TOKEN_KEYS, free_port

pytestmark = pytest.mark.django_db


def jpeg(colour: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def processing_down(settings):
    """The processing API is configured but nothing listens on its port."""
    settings.PROCESSING_API_URL = f"http://127.0.0.1:{free_port()}"
    settings.PROCESSING_SERVICE_TOKEN_KEYS = TOKEN_KEYS
    settings.PROCESSING_REQUEST_TIMEOUT_SECONDS = 0.5
    return settings


def upload_image(client, product, content: bytes, name: str = "mug.jpg"):
    return client.post(
        reverse("admin:catalog_productimage_add"),
        {
            "product": product.pk,
            "image": SimpleUploadedFile(name, content, content_type="image/jpeg"),
            "alt_text": "A red mug",
            "position": 0,
        },
    )


# --- Triggers ---------------------------------------------------------------------------------


def test_uploading_a_product_image_in_the_admin_asks_for_renditions_after_commit(
    client, staff_user, product, media_root, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload_image(client, product, jpeg())
    assert response.status_code == 302

    image = ProductImage.objects.get()
    job = ProcessingJob.objects.get()
    assert job.kind == "image_renditions"
    assert job.status == ProcessingJobStatus.PENDING
    assert (job.subject_type, job.subject_reference) == ("product_image", str(image.pk))
    assert job.idempotency_key == f"renditions-{image.pk}-{image.content_hash[:16]}"
    assert job.request_payload["input"]["source_location"] == image.image.name
    assert job.request_payload["input"]["widths"] == [320, 640, 1280]
    # Exactly one relay task, queued only once the transaction committed (besides the
    # catalog's version, moved on again at commit for the new image).
    relays = [callback for callback in callbacks if callback is not catalog_version_move]
    assert len(relays) == 1


def test_saving_an_image_again_without_a_new_file_asks_for_nothing(
    client, staff_user, product, media_root
):
    client.force_login(staff_user)
    upload_image(client, product, jpeg())
    image = ProductImage.objects.get()

    client.post(
        reverse("admin:catalog_productimage_change", args=[image.pk]),
        {"product": product.pk, "alt_text": "A red mug, again", "position": 1},
    )

    assert ProcessingJob.objects.count() == 1


def test_changing_the_file_asks_for_new_renditions_and_forgets_the_old_ones(
    client, staff_user, product, media_root
):
    client.force_login(staff_user)
    upload_image(client, product, jpeg("red"))
    image = ProductImage.objects.get()
    ProductImage.objects.filter(pk=image.pk).update(
        renditions=[{"location": "results/x/w320.webp", "media_type": "image/webp"}],
        placeholder_colour="#ff0000",
    )

    response = client.post(
        reverse("admin:catalog_productimage_change", args=[image.pk]),
        {
            "product": product.pk,
            "image": SimpleUploadedFile("blue.jpg", jpeg("blue"), content_type="image/jpeg"),
            "alt_text": "A blue mug",
            "position": 0,
        },
    )

    assert response.status_code == 302
    image.refresh_from_db()
    assert image.renditions == []
    assert image.placeholder_colour == ""
    keys = set(ProcessingJob.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == 2
    assert f"renditions-{image.pk}-{image.content_hash[:16]}" in keys


def test_uploading_through_the_product_inline_asks_for_renditions(
    client, staff_user, product, media_root
):
    client.force_login(staff_user)
    url = reverse("admin:catalog_product_change", args=[product.pk])
    form = {
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "category": product.category_id,
        "price": str(product.price),
        "currency": product.currency,
        "stock": product.stock,
        "is_active": "on",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-image": SimpleUploadedFile("mug.jpg", jpeg(), content_type="image/jpeg"),
        "images-0-alt_text": "A mug",
        "images-0-position": "0",
    }

    response = client.post(url, form)

    assert response.status_code == 302, response.content[:2000]
    assert ProcessingJob.objects.filter(kind="image_renditions").count() == 1


def test_an_order_becoming_paid_asks_for_its_invoice_in_the_same_transaction(
    product, shopper, django_capture_on_commit_callbacks
):
    order = make_order((product, 2), user=shopper)
    with django_capture_on_commit_callbacks() as callbacks:
        order_mark_paid(payment=order.payment, provider_payment_id="pi_1", cause="paid")

    job = ProcessingJob.objects.get()
    assert job.kind == "invoice_pdf"
    assert job.idempotency_key == f"invoice-{order.number}"
    payload = job.request_payload["input"]
    assert payload["order_number"] == order.number
    assert payload["totals"]["total_minor"] == int(order.total * 100)
    assert payload["lines"][0]["quantity"] == 2
    assert len(callbacks) == 1


def test_an_invoice_is_asked_for_once_per_order(product, shopper):
    from monolith.orders.invoices import order_invoice_request

    order = make_order((product, 1), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi_1", cause="paid")
    order_invoice_request(order=order)

    assert ProcessingJob.objects.count() == 1


def test_a_request_the_contract_refuses_is_recorded_as_failed_not_lost(product, shopper):
    order = make_order((product, 1), user=shopper)
    order.lines.update(sku="not a valid sku!")

    order_mark_paid(payment=order.payment, provider_payment_id="pi_1", cause="paid")

    job = ProcessingJob.objects.get()
    assert job.status == ProcessingJobStatus.FAILED
    assert "sku" in job.last_error


# --- The relay while processing is down -------------------------------------------------------


def test_while_processing_is_down_the_job_stays_pending_with_a_backoff(
    processing_down, product, shopper
):
    order = make_order((product, 1), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi_1", cause="paid")
    job = ProcessingJob.objects.get()

    delay = processing_job_submit(processing_job_id=job.pk)

    assert delay is not None
    assert delay > 0
    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.PENDING
    assert job.submit_attempts == 1
    assert job.job_id is None
    assert "processing" in job.last_error
    assert job.next_attempt_at is not None
    assert job.next_attempt_at > timezone.now()


def test_a_job_just_asked_for_is_left_to_its_own_task_during_the_grace_period(
    processing_down, product, shopper, django_capture_on_commit_callbacks
):
    order = make_order((product, 1), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi", cause="paid")

    with django_capture_on_commit_callbacks() as callbacks:
        requeued = processing_jobs_sweep()

    assert requeued == []
    assert callbacks == []


def test_a_swept_job_is_not_queued_again_by_the_next_sweep(
    processing_down, product, shopper, django_capture_on_commit_callbacks
):
    processing_down.PROCESSING_JOBS_SWEEP_GRACE_SECONDS = 60
    order = make_order((product, 1), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi", cause="paid")
    ProcessingJob.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks():
        first = processing_jobs_sweep()
        second = processing_jobs_sweep()

    assert len(first) == 1
    assert second == []


def test_the_sweep_requeues_due_pending_jobs_and_leaves_backed_off_ones(
    processing_down, product, shopper, django_capture_on_commit_callbacks
):
    processing_down.PROCESSING_JOBS_SWEEP_GRACE_SECONDS = 0
    first = make_order((product, 1), user=shopper)
    second = make_order((product, 1), user=shopper)
    for order in (first, second):
        order_mark_paid(payment=order.payment, provider_payment_id="pi", cause="paid")
    due, backed_off = ProcessingJob.objects.order_by("id")
    ProcessingJob.objects.filter(pk=due.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    ProcessingJob.objects.filter(pk=backed_off.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    with django_capture_on_commit_callbacks() as callbacks:
        requeued = processing_jobs_sweep()

    assert requeued == [due.pk]
    assert len(callbacks) == 1


def test_the_backoff_doubles_is_capped_and_honours_retry_after(settings):
    settings.PROCESSING_JOBS_RETRY_BASE_SECONDS = 2
    settings.PROCESSING_JOBS_RETRY_MAX_SECONDS = 60
    assert 1 <= processing_retry_delay(attempts=1) <= 2
    assert 8 <= processing_retry_delay(attempts=4) <= 16
    assert 30 <= processing_retry_delay(attempts=20) <= 60
    assert processing_retry_delay(attempts=1, retry_after=30) == 30


def test_without_service_token_keys_the_job_waits_and_says_why(settings, product, shopper):
    settings.PROCESSING_SERVICE_TOKEN_KEYS = ""
    order = make_order((product, 1), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi_1", cause="paid")
    job = ProcessingJob.objects.get()

    assert processing_job_submit(processing_job_id=job.pk) is not None

    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.PENDING
    assert "SERVICE_TOKEN_KEYS" in job.last_error


# --- Staff: job list, retry, sales reports ----------------------------------------------------


def failed_job() -> ProcessingJob:
    return ProcessingJob.objects.create(
        kind="invoice_pdf",
        subject_type="order",
        subject_reference="TS-FAILED1",
        request_key="invoice-TS-FAILED1",
        idempotency_key="invoice-TS-FAILED1",
        request_payload={},
        status=ProcessingJobStatus.FAILED,
        job_id=uuid.uuid4(),
        last_error="render_failed: the font is missing",
    )


def test_staff_see_job_status_attempts_and_error_in_the_admin(client, staff_user):
    failed_job()
    client.force_login(staff_user)

    page = client.get(reverse("admin:jobs_processingjob_changelist")).content.decode()

    assert "TS-FAILED1" in page
    assert "render_failed: the font is missing" in page
    assert "Failed" in page


def test_the_retry_action_resubmits_a_failed_job_under_a_new_key(
    client, staff_user, django_capture_on_commit_callbacks
):
    job = failed_job()
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("admin:jobs_processingjob_changelist"),
            {"action": "retry", "_selected_action": [job.pk]},
            follow=True,
        )

    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.PENDING
    assert job.idempotency_key == "invoice-TS-FAILED1-retry-1"
    assert job.job_id is None
    assert job.last_error == ""
    assert len(callbacks) == 1


def test_a_job_still_running_cannot_be_retried():
    job = failed_job()
    ProcessingJob.objects.filter(pk=job.pk).update(status=ProcessingJobStatus.SUBMITTED)
    job.refresh_from_db()

    from monolith.core.errors import DomainError

    with pytest.raises(DomainError):
        processing_job_retry(job=job)


def test_staff_request_a_sales_report_from_the_admin(
    client, staff_user, product, shopper, media_root
):
    paid = make_order((product, 2), user=shopper)
    order_mark_paid(payment=paid.payment, provider_payment_id="pi_1", cause="paid")
    make_order((product, 1), user=shopper)  # unpaid: not a sale
    client.force_login(staff_user)
    today = timezone.now().date()

    response = client.post(
        reverse("admin:jobs_salesreportrequest_add"),
        {"date_from": str(today - timedelta(days=7)), "date_to": str(today), "currency": "EUR"},
    )

    assert response.status_code == 302
    report = SalesReportRequest.objects.get()
    assert report.job is not None
    assert report.job.kind == "sales_report"
    assert report.job.request_payload["input"]["source_location"] == report.export_location
    export = (media_root / report.export_location).read_text().splitlines()
    assert export[0] == "order_number,placed_at,currency,total_minor"
    assert [line.split(",")[0] for line in export[1:]] == [paid.number]


def test_a_report_range_that_ends_before_it_starts_is_refused(client, staff_user, media_root):
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:jobs_salesreportrequest_add"),
        {"date_from": "2026-11-20", "date_to": "2026-11-01", "currency": "EUR"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert not SalesReportRequest.objects.exists()


def test_a_finished_report_can_be_downloaded_by_staff_only(client, staff_user, shopper, media_root):
    job = ProcessingJob.objects.create(
        kind="sales_report",
        subject_type="sales_report",
        subject_reference="1",
        request_key="sales-report-1",
        idempotency_key="sales-report-1",
        request_payload={},
        status=ProcessingJobStatus.SUCCEEDED,
        job_id=uuid.uuid4(),
        result_locations=[
            {"name": "sales.csv", "location": "results/r/sales.csv", "media_type": "text/csv"}
        ],
    )
    (media_root / "results" / "r").mkdir(parents=True)
    (media_root / "results" / "r" / "sales.csv").write_text("order_number\nTOTAL\n")
    report = SalesReportRequest.objects.create(
        date_from="2026-11-01", date_to="2026-11-20", currency="EUR", job=job
    )
    url = reverse("admin:jobs_salesreportrequest_download", args=[report.pk])

    client.force_login(shopper)
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(staff_user)
    listing = client.get(reverse("admin:jobs_salesreportrequest_changelist")).content.decode()
    response = client.get(url)

    assert url in listing
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert b"".join(response.streaming_content) == b"order_number\nTOTAL\n"
