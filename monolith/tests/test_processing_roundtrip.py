"""Processing jobs end to end, in both placements (PROCESSING_PLACEMENT), by the same tests.

``service``: the REAL processing service: its API (runserver) and a worker for all its queues
run as subprocesses on a temporary SQLite database and a filesystem broker, sharing a media
folder with the monolith and posting their signed results to the monolith's live server.
``inline``: the relay's submission runs the same job kinds in this process.
What must come back either way: a real invoice PDF behind the order page's link, and real
WebP/JPEG renditions on the product page.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from PIL import Image

from monolith.accounts.models import User
from monolith.catalog.models import ProductImage
from monolith.jobs.client import processing_clients_close
from monolith.jobs.models import ProcessingJob, ProcessingJobStatus
from monolith.jobs.relay import processing_job_submit, processing_jobs_sweep
from monolith.orders.models import Order
from monolith.orders.services import order_mark_paid

from .factories import make_category, make_order, make_product, make_user
from .processing_support import (
    CALLBACK_SECRET,
    TOKEN_KEYS,
    ProcessingService,
    free_port,
    processing_service_running,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def shared_media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("shared-media")


@pytest.fixture(scope="module")
def processing(tmp_path_factory, shared_media, live_server) -> Iterator[ProcessingService]:
    with processing_service_running(
        workdir=tmp_path_factory.mktemp("processing"),
        media_root=shared_media,
        callback_url=live_server.url,
    ) as service:
        yield service


@pytest.fixture
def monolith_settings(settings, shared_media, processing):
    settings.MEDIA_ROOT = shared_media
    settings.PROCESSING_PLACEMENT = "service"
    settings.PROCESSING_API_URL = processing.url
    settings.PROCESSING_SERVICE_TOKEN_KEYS = TOKEN_KEYS
    settings.JOB_RESULT_CALLBACK_SECRETS = CALLBACK_SECRET
    settings.PROCESSING_JOBS_SWEEP_GRACE_SECONDS = 0
    yield settings
    processing_clients_close()


@pytest.fixture(params=["service", "inline"])
def placed(request, settings, tmp_path) -> Iterator[ProcessingService | None]:
    """Jobs run in the placement the parameter names; the processing service when it runs."""
    if request.param == "service":
        request.getfixturevalue("monolith_settings")
        yield request.getfixturevalue("processing")
        return
    settings.PROCESSING_PLACEMENT = "inline"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    yield None


def job_finished(job: ProcessingJob, processing: ProcessingService | None, timeout: float = 20):
    def finished() -> ProcessingJob | None:
        job.refresh_from_db()
        return job if job.status not in ("pending", "submitted") else None

    try:
        return wait_for(finished, timeout=timeout, what=f"the result of {job}")
    except AssertionError as error:
        log = processing.log_text() if processing is not None else "(inline: no service log)"
        raise AssertionError(f"{error}\n{log}") from None


def invoice_pdf_served(order: Order, owner: User) -> bytes:
    """The order page's invoice link, as its owner follows it: the PDF's bytes."""
    client = Client()
    client.force_login(owner)
    partial = client.get(reverse("orders:invoice_status", args=[order.public_id])).content
    assert b"data-invoice-link" in partial
    response = client.get(reverse("orders:invoice_download", args=[order.public_id]))
    pdf = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 1000
    return pdf


def test_an_invoice_asked_for_while_processing_was_down_arrives_once_it_is_up(
    monolith_settings, processing, live_server
):
    shopper = make_user("olivia")
    product = make_product(category=make_category(), name="Teapot", price="24.00")
    order = make_order((product, 2), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi_1", cause="paid")
    job = ProcessingJob.objects.get(kind="invoice_pdf")

    # Processing is down: the row stays pending, with its error and a backoff.
    monolith_settings.PROCESSING_API_URL = f"http://127.0.0.1:{free_port()}"
    assert processing_job_submit(processing_job_id=job.pk) is not None
    job.refresh_from_db()
    assert (job.status, job.submit_attempts, job.job_id) == ("pending", 1, None)

    # Processing is back; once the backoff passed, the sweep finds the row again.
    monolith_settings.PROCESSING_API_URL = processing.url
    ProcessingJob.objects.filter(pk=job.pk).update(next_attempt_at=None)
    assert processing_jobs_sweep() == [job.pk]
    assert processing_job_submit(processing_job_id=job.pk) is None
    # A second relay for the same row (a duplicated task) sends nothing more.
    assert processing_job_submit(processing_job_id=job.pk) is None

    finished = job_finished(job, processing)

    assert finished.status == ProcessingJobStatus.SUCCEEDED, finished.last_error
    assert finished.submit_attempts == 2
    assert ProcessingJob.objects.filter(kind="invoice_pdf").count() == 1
    pdf = invoice_pdf_served(order, shopper)
    assert order.number.encode() in pdf or b"Invoice" in pdf


def test_a_paid_order_gets_its_invoice_pdf_behind_the_order_pages_link(placed):
    shopper = make_user("quinn")
    order = make_order((make_product(category=make_category(), price="9.00"), 1), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi_3", cause="paid")
    job = ProcessingJob.objects.get(kind="invoice_pdf")

    assert processing_job_submit(processing_job_id=job.pk) is None
    finished = job_finished(job, placed)

    assert finished.status == ProcessingJobStatus.SUCCEEDED, finished.last_error
    assert finished.job_id is not None
    assert finished.result_locations[0]["location"].startswith(f"results/{finished.job_id}/")
    invoice_pdf_served(order, shopper)


def jpeg(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((30, 30, 200), (0, 0, size[0] // 4, size[1] // 4))
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def test_an_image_uploaded_in_the_admin_gets_real_renditions_on_the_product_page(placed):
    from django.core.files.uploadedfile import SimpleUploadedFile

    staff = make_user("sam", is_staff=True)
    product = make_product(category=make_category(), name="Red mug")
    admin = Client()
    admin.force_login(staff)
    response = admin.post(
        reverse("admin:catalog_productimage_add"),
        {
            "product": product.pk,
            "image": SimpleUploadedFile("mug.jpg", jpeg((1600, 1200)), content_type="image/jpeg"),
            "alt_text": "A red mug",
            "position": 0,
        },
    )
    assert response.status_code == 302
    job = ProcessingJob.objects.get(kind="image_renditions")

    processing_job_submit(processing_job_id=job.pk)
    finished = job_finished(job, placed)

    assert finished.status == ProcessingJobStatus.SUCCEEDED, finished.last_error
    image = ProductImage.objects.get()
    widths = sorted(r["width"] for r in image.renditions if r["media_type"] == "image/webp")
    assert widths == [320, 640, 1280]
    assert image.placeholder_colour.startswith("#")
    for rendition in image.renditions:
        data = (Path(settings.MEDIA_ROOT) / rendition["location"]).read_bytes()
        assert Image.open(io.BytesIO(data)).width == rendition["width"]
    page = Client().get(reverse("catalog:product_detail", args=[product.slug])).content.decode()
    assert " 320w, " in page
    assert " 1280w" in page
    assert f"background-color: {image.placeholder_colour}" in page


def test_processing_refusing_the_request_marks_the_job_failed_with_its_problem(
    monolith_settings, processing
):
    monolith_settings.PROCESSING_SERVICE_TOKEN_KEYS = (
        "tests:a-key-the-processing-service-does-not-know-at-all"
    )
    shopper = make_user("peter")
    order = make_order((make_product(category=make_category()), 1), user=shopper)
    order_mark_paid(payment=order.payment, provider_payment_id="pi_2", cause="paid")
    job = ProcessingJob.objects.get()

    assert processing_job_submit(processing_job_id=job.pk) is None

    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.FAILED
    assert job.last_error.startswith("HTTP 401")
