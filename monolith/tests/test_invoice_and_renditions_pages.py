"""Processing's results on the pages: responsive product images, and the invoice on the order
page (appearing through the polled partial, downloadable by the order's owner or staff only)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from monolith.catalog.models import ProductImage
from monolith.jobs.models import ProcessingJob, ProcessingJobStatus
from monolith.orders.services import order_mark_paid

from .factories import make_order, make_user

pytestmark = pytest.mark.django_db


def image_with_renditions(product, *, renditions: bool) -> ProductImage:
    image = ProductImage.objects.create(
        product=product, image=ContentFile(b"jpeg", name="mug.jpg"), alt_text="A red mug"
    )
    if renditions:
        image.renditions = [
            {
                "location": f"results/job/w{width}.{suffix}",
                "media_type": media_type,
                "width": width,
                "height": width * 3 // 4,
            }
            for width in (320, 640, 1280)
            for suffix, media_type in (("webp", "image/webp"), ("jpg", "image/jpeg"))
        ]
        image.placeholder_colour = "#aa5500"
        image.save()
    return image


def test_the_product_page_serves_a_responsive_picture_once_renditions_exist(
    client, product, media_root
):
    image_with_renditions(product, renditions=True)

    page = client.get(reverse("catalog:product_detail", args=[product.slug])).content.decode()

    img = re.search(r"<img class=\"product-image product-image--rendition\"[^>]*>", page)
    assert img, page
    tag = img.group(0)
    assert (
        'srcset="/media/results/job/w320.jpg 320w, /media/results/job/w640.jpg 640w, '
        '/media/results/job/w1280.jpg 1280w"' in tag
    )
    assert 'src="/media/results/job/w640.jpg"' in tag
    assert 'sizes="' in tag
    assert "background-color: #aa5500" in tag
    assert 'width="640" height="480"' in tag
    source = re.search(r"<source type=\"image/webp\" srcset=\"([^\"]+)\"", page)
    assert source
    assert source.group(1).endswith("/media/results/job/w1280.webp 1280w")


def test_before_renditions_exist_the_page_shows_the_original(client, product, media_root):
    image = image_with_renditions(product, renditions=False)

    page = client.get(reverse("catalog:product_detail", args=[product.slug])).content.decode()

    assert f'src="{image.image.url}"' in page
    assert "srcset" not in page


def test_the_catalog_cards_use_the_renditions_too(client, product, media_root):
    image_with_renditions(product, renditions=True)

    page = client.get(reverse("catalog:product_list")).content.decode()

    assert "/media/results/job/w320.webp 320w" in page


def paid_order(product, user):
    order = make_order((product, 1), user=user)
    order_mark_paid(payment=order.payment, provider_payment_id="pi_1", cause="paid")
    order.refresh_from_db()
    return order


def invoice_ready(order, media_root) -> None:
    job = ProcessingJob.objects.get(subject_reference=order.number)
    job_id = uuid.uuid4()
    folder = media_root / "results" / str(job_id)
    folder.mkdir(parents=True)
    (folder / "invoice.pdf").write_bytes(b"%PDF-1.4 test invoice")
    ProcessingJob.objects.filter(pk=job.pk).update(
        status=ProcessingJobStatus.SUCCEEDED,
        job_id=job_id,
        result_locations=[
            {
                "name": "invoice.pdf",
                "location": f"results/{job_id}/invoice.pdf",
                "media_type": "application/pdf",
                "size_bytes": 21,
            }
        ],
    )


def test_the_invoice_partial_polls_until_the_invoice_exists_then_links_it(
    client, product, shopper, media_root
):
    order = paid_order(product, shopper)
    client.force_login(shopper)
    partial_url = reverse("orders:invoice_status", args=[order.public_id])

    page = client.get(reverse("orders:detail", args=[order.public_id])).content.decode()
    waiting = client.get(partial_url, headers={"HX-Request": "true"}).content.decode()
    invoice_ready(order, media_root)
    ready = client.get(partial_url, headers={"HX-Request": "true"}).content.decode()

    assert f'hx-get="{partial_url}"' in page
    assert "data-invoice-link" not in page
    assert 'hx-trigger="every 2s"' in waiting
    assert "data-invoice-link" not in waiting
    download = reverse("orders:invoice_download", args=[order.public_id])
    assert f'<a data-invoice-link href="{download}">Download invoice (PDF)</a>' in ready
    assert "hx-trigger" not in ready  # the polling stops once the invoice is there


def test_an_unpaid_order_polls_for_its_future_invoice(client, product, shopper):
    order = make_order((product, 1), user=shopper)
    client.force_login(shopper)

    partial = client.get(reverse("orders:invoice_status", args=[order.public_id])).content
    assert b'hx-trigger="every 2s"' in partial


def test_the_owner_downloads_the_invoice_pdf(client, product, shopper, media_root):
    order = paid_order(product, shopper)
    invoice_ready(order, media_root)
    client.force_login(shopper)

    response = client.get(reverse("orders:invoice_download", args=[order.public_id]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert f"invoice-{order.number}.pdf" in response["Content-Disposition"]


def test_staff_may_download_any_invoice(client, product, shopper, staff_user, media_root):
    order = paid_order(product, shopper)
    invoice_ready(order, media_root)
    client.force_login(staff_user)

    response = client.get(reverse("orders:invoice_download", args=[order.public_id]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("who", ["another shopper", "anonymous"])
def test_nobody_else_may_download_the_invoice(client, product, shopper, media_root, who):
    order = paid_order(product, shopper)
    invoice_ready(order, media_root)
    if who == "another shopper":
        client.force_login(make_user("mallory"))

    download = client.get(reverse("orders:invoice_download", args=[order.public_id]))
    partial = client.get(reverse("orders:invoice_status", args=[order.public_id]))

    assert download.status_code == 404
    assert partial.status_code == 404


def test_no_invoice_yet_is_a_404_not_an_error(client, product, shopper, media_root):
    order = paid_order(product, shopper)
    client.force_login(shopper)

    response = client.get(reverse("orders:invoice_download", args=[order.public_id]))

    assert response.status_code == 404
