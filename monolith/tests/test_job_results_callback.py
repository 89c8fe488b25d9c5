"""`POST /internal/v1/job-results`: the processing service's signed callback, as the contract says.

Signatures are made by the reference `standardwebhooks` library, not by Tessera's own signer,
so a bug shared by our signer and verifier could not hide here.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.test import Client
from tessera_contract.models.base import JobError, ResultLocation

from monolith.api.contract_drift import CONTRACT_PATH
from monolith.catalog.models import Product, ProductImage
from monolith.jobs.models import JobResultReceipt, ProcessingJob, ProcessingJobStatus
from monolith.jobs.relay import processing_jobs_sweep

from .processing_support import (
    CALLBACK_SECRET,
    CALLBACK_SECRET_OLD,
    job_result_body,
    signed_headers,
)

URL = "/internal/v1/job-results"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _callback_secrets(settings):
    # Both secrets active, as during a rotation.
    settings.JOB_RESULT_CALLBACK_SECRETS = f"{CALLBACK_SECRET}, {CALLBACK_SECRET_OLD}"


def submitted_invoice_job(order_number: str = "TS-ABC123") -> ProcessingJob:
    return ProcessingJob.objects.create(
        kind="invoice_pdf",
        subject_type="order",
        subject_reference=order_number,
        request_key=f"invoice-{order_number}",
        idempotency_key=f"invoice-{order_number}",
        request_payload={},
        status=ProcessingJobStatus.SUBMITTED,
        job_id=uuid.uuid4(),
    )


def invoice_location(job_id: uuid.UUID | None) -> ResultLocation:
    return ResultLocation(
        name="invoice.pdf",
        location=f"results/{job_id}/invoice.pdf",
        media_type="application/pdf",
        size_bytes=1234,
    )


def post(client: Client, body: bytes, headers: dict[str, str], **extra):
    return client.post(
        URL,
        data=body,
        content_type=extra.pop("content_type", "application/json"),
        headers=headers,
        **extra,
    )


pytestmark = pytest.mark.django_db


def test_a_signed_result_is_applied_and_answered_with_204(client):
    job = submitted_invoice_job()
    body = job_result_body(job_id=job.job_id, locations=[invoice_location(job.job_id)])

    response = post(client, body, signed_headers(body, message_id=f"job-result-{job.job_id}"))

    assert response.status_code == 204
    assert response.content == b""
    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.SUCCEEDED
    assert job.result_location(media_type="application/pdf") == f"results/{job.job_id}/invoice.pdf"


def test_a_result_signed_with_the_older_active_secret_is_accepted(client):
    job = submitted_invoice_job()
    body = job_result_body(job_id=job.job_id)
    headers = signed_headers(
        body, message_id=f"job-result-{job.job_id}", secret=CALLBACK_SECRET_OLD
    )

    assert post(client, body, headers).status_code == 204


def _wrong_secret(body, message_id):
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    return signed_headers(body, message_id=message_id, secret=other)


def _stale(body, message_id):
    return signed_headers(
        body, message_id=message_id, timestamp=datetime.now(UTC) - timedelta(minutes=6)
    )


def _from_the_future(body, message_id):
    return signed_headers(
        body, message_id=message_id, timestamp=datetime.now(UTC) + timedelta(minutes=6)
    )


def _unsigned(body, message_id):
    headers = signed_headers(body, message_id=message_id)
    del headers["webhook-signature"]
    return headers


def _without_id(body, message_id):
    headers = signed_headers(body, message_id=message_id)
    del headers["webhook-id"]
    return headers


def _garbled(body, message_id):
    headers = signed_headers(body, message_id=message_id)
    headers["webhook-signature"] = "v1,not base64!"
    return headers


def _signed_for_another_id(body, message_id):
    headers = signed_headers(body, message_id=f"{message_id}-other")
    headers["webhook-id"] = message_id
    return headers


@pytest.mark.parametrize(
    "make_headers",
    [
        _wrong_secret,
        _stale,
        _from_the_future,
        _unsigned,
        _without_id,
        _garbled,
        _signed_for_another_id,
    ],
)
def test_a_bad_signature_gets_401_without_details_and_changes_nothing(client, make_headers):
    job = submitted_invoice_job()
    body = job_result_body(job_id=job.job_id, locations=[invoice_location(job.job_id)])

    response = post(client, body, make_headers(body, f"job-result-{job.job_id}"))

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem == {
        "type": "/problems/signature-invalid",
        "title": "Unauthorized",
        "status": 401,
    }
    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.SUBMITTED
    assert not JobResultReceipt.objects.exists()


def test_a_tampered_body_is_refused(client):
    job = submitted_invoice_job()
    body = job_result_body(job_id=job.job_id)
    headers = signed_headers(body, message_id=f"job-result-{job.job_id}")
    tampered = body.replace(b'"succeeded"', b'"failed"')

    assert post(client, tampered, headers).status_code == 401


def test_the_signature_is_checked_before_the_body_is_parsed(client):
    # Not JSON at all, and not signed with an active secret: 401, not 400.
    body = b"{not json"
    response = post(client, body, _wrong_secret(body, "job-result-x"))
    assert response.status_code == 401


def test_a_signed_body_that_breaks_the_schema_gets_a_precise_400(client):
    job = submitted_invoice_job()
    document = json.loads(job_result_body(job_id=job.job_id))
    document["attempts"] = -1
    body = json.dumps(document).encode()

    response = post(client, body, signed_headers(body, message_id=f"job-result-{job.job_id}"))

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "/problems/validation-failed"
    assert "attempts" in problem["detail"]


def test_a_signed_body_that_is_not_json_gets_a_malformed_request_problem(client):
    body = b"{not json"
    response = post(client, body, signed_headers(body, message_id="job-result-x"))
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-request"


def test_a_webhook_id_that_does_not_name_the_job_gets_400(client):
    job = submitted_invoice_job()
    body = job_result_body(job_id=job.job_id)

    response = post(client, body, signed_headers(body, message_id=f"job-result-{uuid.uuid4()}"))

    assert response.status_code == 400
    assert "webhook-id" in response.json()["detail"]


def test_a_body_over_256_kib_gets_413_before_anything_is_read(client):
    body = b"x" * (256 * 1024 + 1)
    response = post(client, body, {"webhook-id": "job-result-x"})
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


def test_a_repeated_delivery_answers_204_and_changes_nothing(client):
    job = submitted_invoice_job()
    body = job_result_body(job_id=job.job_id, locations=[invoice_location(job.job_id)])
    message_id = f"job-result-{job.job_id}"
    assert post(client, body, signed_headers(body, message_id=message_id)).status_code == 204
    job.refresh_from_db()
    first_update = job.updated_at

    # The same result again (processing retried after a lost 204), freshly signed.
    again = post(client, body, signed_headers(body, message_id=message_id))

    assert again.status_code == 204
    job.refresh_from_db()
    assert job.updated_at == first_update
    receipt = JobResultReceipt.objects.get(job_id=str(job.job_id))
    assert receipt.duplicate_deliveries == 1


def test_a_failed_job_is_recorded_with_its_error(client):
    job = submitted_invoice_job()
    body = job_result_body(
        job_id=job.job_id,
        status="dead_lettered",
        error=JobError(code="source_missing", message="No source.", retryable=False),
    )

    assert (
        post(client, body, signed_headers(body, message_id=f"job-result-{job.job_id}")).status_code
        == 204
    )

    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.FAILED
    assert job.last_error == "source_missing: No source."


def test_a_result_that_arrives_before_the_relay_recorded_the_job_id_is_applied_later(client):
    early_job_id = uuid.uuid4()
    body = job_result_body(job_id=early_job_id, locations=[invoice_location(early_job_id)])
    response = post(client, body, signed_headers(body, message_id=f"job-result-{early_job_id}"))
    assert response.status_code == 204
    assert JobResultReceipt.objects.get(job_id=early_job_id).applied_at is None

    # The relay records the job id (here: its row, as processing_job_submit leaves it).
    job = submitted_invoice_job()
    ProcessingJob.objects.filter(pk=job.pk).update(job_id=early_job_id)
    processing_jobs_sweep()

    job.refresh_from_db()
    assert job.status == ProcessingJobStatus.SUCCEEDED
    assert JobResultReceipt.objects.get(job_id=early_job_id).applied_at is not None


def _renditions_job_submitted(
    product: Product, *, content_hash: str
) -> tuple[ProductImage, ProcessingJob]:
    """A product image whose file hashes to ``content_hash``, and a submitted renditions job
    asked for the version hashing to "ab…" (the monolith's request key names the hash)."""
    from django.core.files.base import ContentFile

    image = ProductImage.objects.create(
        product=product, image=ContentFile(b"not read here", name="mug.jpg"), alt_text="A mug"
    )
    image.content_hash = content_hash
    image.save()
    job = ProcessingJob.objects.create(
        kind="image_renditions",
        subject_type="product_image",
        subject_reference=str(image.pk),
        request_key=f"renditions-{image.pk}-{'ab' * 8}",
        idempotency_key=f"renditions-{image.pk}-{'ab' * 8}",
        request_payload={},
        status=ProcessingJobStatus.SUBMITTED,
        job_id=uuid.uuid4(),
    )
    return image, job


def test_renditions_and_the_placeholder_colour_land_on_the_product_image(
    client, product, media_root
):
    image, job = _renditions_job_submitted(product, content_hash="ab" * 32)
    folder = media_root / "results" / str(job.job_id)
    folder.mkdir(parents=True)
    (folder / "placeholder.json").write_text('{"dominant_colour": "#aa5500"}')
    locations = [
        ResultLocation(
            name=f"w{width}.{suffix}",
            location=f"results/{job.job_id}/w{width}.{suffix}",
            media_type=media_type,
            size_bytes=100,
            width=width,
            height=width * 3 // 4,
        )
        for width in (320, 640, 1280)
        for suffix, media_type in (("webp", "image/webp"), ("jpg", "image/jpeg"))
    ] + [
        ResultLocation(
            name="placeholder.json",
            location=f"results/{job.job_id}/placeholder.json",
            media_type="application/json",
            size_bytes=30,
        )
    ]
    body = job_result_body(
        job_id=job.job_id,
        kind="image_renditions",
        subject=("product_image", str(image.pk)),
        locations=locations,
    )

    assert (
        post(client, body, signed_headers(body, message_id=f"job-result-{job.job_id}")).status_code
        == 204
    )

    image.refresh_from_db()
    assert image.placeholder_colour == "#aa5500"
    assert sorted(r["width"] for r in image.renditions if r["media_type"] == "image/webp") == [
        320,
        640,
        1280,
    ]


def test_a_result_for_a_replaced_file_does_not_overwrite_the_new_one(client, product, media_root):
    # The file was replaced after the job was asked for (the job names the "ab…" version).
    image, job = _renditions_job_submitted(product, content_hash="cd" * 32)
    location = ResultLocation(
        name="w320.webp",
        location=f"results/{job.job_id}/w320.webp",
        media_type="image/webp",
        size_bytes=1,
        width=320,
        height=240,
    )
    body = job_result_body(
        job_id=job.job_id,
        kind="image_renditions",
        subject=("product_image", str(image.pk)),
        locations=[location],
    )

    assert (
        post(client, body, signed_headers(body, message_id=f"job-result-{job.job_id}")).status_code
        == 204
    )

    image.refresh_from_db()
    assert image.renditions == []


def test_the_callback_is_exempt_from_csrf():
    job = submitted_invoice_job()
    body = job_result_body(job_id=job.job_id)
    strict = Client(enforce_csrf_checks=True)

    response = post(strict, body, signed_headers(body, message_id=f"job-result-{job.job_id}"))

    assert response.status_code == 204


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405


def test_without_configured_secrets_the_callback_is_unavailable_not_open(client, settings):
    settings.JOB_RESULT_CALLBACK_SECRETS = ""
    body = job_result_body(job_id=uuid.uuid4())

    response = post(client, body, signed_headers(body, message_id="job-result-x"))

    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["type"] == "/problems/service-unavailable"


# --- Conformance: every answer is one the contract documents, with the documented body --------

operation = schemathesis.openapi.from_path(CONTRACT_PATH)["/internal/v1/job-results"]["POST"]


def _case_answers(live_server, body: bytes, headers: dict[str, str]):
    case = operation.Case(body=body, headers=headers, media_type="application/json")
    response = case.call(base_url=live_server.url)
    case.validate_response(response)
    return response


@pytest.mark.django_db(transaction=True)
def test_every_answer_conforms_to_the_contract(live_server, settings):
    settings.JOB_RESULT_CALLBACK_SECRETS = CALLBACK_SECRET
    job = submitted_invoice_job()
    message_id = f"job-result-{job.job_id}"
    good = job_result_body(job_id=job.job_id, locations=[invoice_location(job.job_id)])
    broken = good.replace(b'"attempts":1', b'"attempts":-1')
    statuses = [
        _case_answers(live_server, good, signed_headers(good, message_id=message_id)).status_code,
        _case_answers(live_server, good, signed_headers(good, message_id=message_id)).status_code,
        _case_answers(live_server, good, _wrong_secret(good, message_id)).status_code,
        _case_answers(
            live_server, broken, signed_headers(broken, message_id=message_id)
        ).status_code,
    ]
    assert statuses == [204, 204, 401, 400]


def test_a_signed_result_nested_a_thousand_levels_deep_is_a_400_problem(client):
    body = b"[" * 1000 + b"]" * 1000

    response = post(client, body, signed_headers(body, message_id="job-result-x"))

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/malformed-request"
