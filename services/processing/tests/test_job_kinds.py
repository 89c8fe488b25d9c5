"""Every job kind on real files, run through the same service a worker calls."""

import io
import json
import os
import re
import stat
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
import pyvips
from django.core.files.storage import default_storage
from fpdf import FPDF  # noqa: F401  (the library under test must import)
from PIL import Image
from processing.jobs.models import Job
from processing.jobs.services import job_attempt_run, job_create
from tessera_contract.models.codec import payload_decode
from tessera_contract.models.jobs import JobCreateRequest
from tessera_jobs.storage import result_save

pytestmark = pytest.mark.django_db(transaction=True)


def stored(location: str) -> bytes:
    with default_storage.open(location) as stored_file:
        return bytes(stored_file.read())


def run(body: dict[str, Any]) -> Job:
    request = payload_decode(json.dumps(body), JobCreateRequest)
    job = job_create(request=request, idempotency_key=uuid.uuid4().hex).job
    job_attempt_run(job_id=job.id)
    job.refresh_from_db()
    return job


def renditions(location: str, widths: list[int] | None = None) -> Job:
    return run(
        {
            "kind": "image_renditions",
            "subject": {"type": "product_image", "reference": "1"},
            "input": {
                "source_location": location,
                "widths": widths or [320, 640, 1280],
                "formats": ["webp", "jpeg"],
            },
        }
    )


def pillow_bytes(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def exif_rotated_jpeg() -> bytes:
    image = Image.new("RGB", (2000, 1000), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display: shown 1000 wide, 2000 high
    exif[0x010F] = "SecretCam"
    return pillow_bytes(image, "JPEG", exif=exif)


def sixteen_bit_png() -> bytes:
    return (
        pyvips.Image.black(1500, 900, bands=3)
        .cast("ushort")
        .copy(interpretation="rgb16")
        .linear(1, 30000)
        .cast("ushort")
        .write_to_buffer(".png")
    )


CORPUS = {
    "cmyk.jpg": lambda: pillow_bytes(Image.new("CMYK", (1600, 1200), (0, 100, 200, 0)), "JPEG"),
    "alpha.png": lambda: pillow_bytes(Image.new("RGBA", (1400, 700), (10, 200, 10, 90)), "PNG"),
    "exif-rotated.jpg": exif_rotated_jpeg,
    "sixteen-bit.png": sixteen_bit_png,
    "animated.gif": lambda: pillow_bytes(
        Image.new("P", (700, 500), 1),
        "GIF",
        save_all=True,
        append_images=[Image.new("P", (700, 500), 2)],
        duration=100,
        loop=0,
    ),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_awkward_images_get_every_rendition_in_srgb_without_metadata(name, source_write):  # type: ignore[no-untyped-def]
    source = pyvips.Image.new_from_buffer(CORPUS[name](), "")
    job = renditions(source_write(name, CORPUS[name]()))
    assert job.status == "succeeded", job.error
    made = {location["name"]: location for location in job.result_locations}
    for location in made.values():
        if location["media_type"].startswith("image/"):
            image = pyvips.Image.new_from_buffer(stored(location["location"]), "")
            assert image.width <= source.width + source.height  # never upscaled (rotation aside)
            assert image.format == "uchar"
            assert image.interpretation == "srgb"
            assert "exif-data" not in image.get_fields()
            assert "icc-profile-data" not in image.get_fields()
            assert (image.width, image.height) == (location["width"], location["height"])
    placeholder = json.loads(stored(made["placeholder.json"]["location"]))
    assert re.fullmatch(r"#[0-9a-f]{6}", placeholder["dominant_colour"])


def test_renditions_are_never_upscaled_and_follow_exif_rotation(source_write):  # type: ignore[no-untyped-def]
    job = renditions(source_write("r.jpg", exif_rotated_jpeg()))
    sizes = sorted(
        {(loc["width"], loc["height"]) for loc in job.result_locations if "width" in loc}
    )
    assert sizes == [(320, 640), (640, 1280), (1000, 2000)]  # 1280 asked, source is 1000 wide


def test_a_red_image_has_a_red_placeholder(source_write):  # type: ignore[no-untyped-def]
    job = renditions(
        source_write("red.png", pillow_bytes(Image.new("RGB", (400, 300), (255, 0, 0)), "PNG"))
    )
    location = next(loc for loc in job.result_locations if loc["name"] == "placeholder.json")
    assert json.loads(stored(location["location"]))["dominant_colour"] == "#ff0000"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("notes.txt", b"this is not an image at all", "not_an_image"),
        (
            "truncated.jpg",
            pillow_bytes(Image.effect_noise((1200, 900), 60).convert("RGB"), "JPEG")[:20000],
            "image_corrupt",
        ),
        # 20000 x 20000 = 400 MP in a few hundred bytes of PNG: refused from the header alone.
        (
            "bomb.png",
            pyvips.Image.black(20000, 20000).write_to_buffer(".png", compression=9),
            "image_too_large",
        ),
    ],
)
def test_bad_sources_fail_the_job_clearly_without_retrying(name, data, code, source_write):  # type: ignore[no-untyped-def]
    job = renditions(source_write(name, data))
    assert job.status == "failed"
    assert job.error["code"] == code
    assert job.error["retryable"] is False
    assert job.attempts == 1
    assert job.result_locations == []


ORDER = {
    "order_number": "TS-2026-000123",
    "issued_at": "2026-11-23T10:00:00Z",
    "currency": "EUR",
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "billing_address": {
        "line1": "1 Analytical St",
        "city": "London",
        "postal_code": "N1 9GU",
        "country_code": "GB",
    },
    "lines": [
        {
            "sku": "MUG-1",
            "description": "Blue mug",
            "quantity": 2,
            "unit_price_minor": 1250,
            "line_total_minor": 2500,
        },
        {
            "sku": "TEA-2",
            "description": "Green tea",
            "quantity": 1,
            "unit_price_minor": 890,
            "line_total_minor": 890,
        },
    ],
    "totals": {
        "subtotal_minor": 3390,
        "shipping_minor": 490,
        "tax_minor": 776,
        "total_minor": 4656,
    },
}


def test_an_invoice_is_one_pdf_page_with_the_order_and_totals(source_write):  # type: ignore[no-untyped-def]
    job = run(
        {
            "kind": "invoice_pdf",
            "subject": {"type": "order", "reference": "TS-2026-000123"},
            "input": ORDER,
        }
    )
    assert job.status == "succeeded", job.error
    (location,) = job.result_locations
    assert location["media_type"] == "application/pdf"
    document = stored(location["location"])
    assert document.startswith(b"%PDF")
    assert document.count(b"/Type /Page\n") == 1

    text = b"".join(
        zlib.decompress(stream)
        for stream in re.findall(rb"stream\n(.*?)\nendstream", document, re.S)
    )
    for expected in (
        b"TS-2026-000123",
        b"46.56 EUR",
        b"7.76 EUR",
        b"Ada Lovelace",
        b"London",
        b"Blue mug",
    ):
        assert expected in text, expected


def test_a_sales_report_keeps_the_orders_in_the_range_and_totals_them(source_write):  # type: ignore[no-untyped-def]
    rows = ["order_number,placed_at,currency,total_minor,status"]
    rows += [
        f"TS-{n:06d},2026-10-{1 + n % 30:02d}T12:00:00+00:00,EUR,{100 + n},paid"
        for n in range(3000)
    ]
    rows.append("TS-999999,2026-10-05T12:00:00+00:00,USD,5000,paid")
    location = source_write("orders.csv", ("\n".join(rows) + "\n").encode())
    job = run(
        {
            "kind": "sales_report",
            "subject": {"type": "sales_report", "reference": "oct"},
            "input": {
                "date_from": "2026-10-01",
                "date_to": "2026-10-10",
                "currency": "EUR",
                "source_location": location,
                "formats": ["csv"],
            },
        }
    )
    assert job.status == "succeeded", job.error
    lines = stored(job.result_locations[0]["location"]).decode().splitlines()
    kept = [n for n in range(3000) if 1 + n % 30 <= 10]
    assert lines[0] == "order_number,placed_at,currency,total_minor"
    assert len(lines) == len(kept) + 2
    assert lines[-1] == f"TOTAL,{len(kept)} orders,EUR,{sum(100 + n for n in kept)}"


def test_a_result_is_readable_by_other_users_whatever_the_umask(settings, tmp_path):
    """nginx serves renditions from the shared media storage as a user of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = os.umask(0o077)  # a strict operator's umask: would make 0600 files, 0700 folders
    try:
        result = result_save(
            default_storage,
            job_id=uuid.uuid4(),
            name="w320.webp",
            content=io.BytesIO(b"RIFF"),
            media_type="image/webp",
        )
    finally:
        os.umask(previous)
    path = Path(default_storage.path(result["location"]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    for folder in (path.parent, path.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder
