"""Product image renditions: asked of the processing service, applied to the image when done.

The image asks for its renditions once per file (by the file's hash); the result handler,
registered for the `image_renditions` job kind in CatalogConfig.ready, records them on the
image with its placeholder colour.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Literal

from django.core.files.storage import default_storage
from tessera_contract.models.base import SubjectReference
from tessera_contract.models.jobs import ImageRenditionsInput, ImageRenditionsJobCreate

from monolith.jobs.models import ProcessingJob
from monolith.jobs.outbox import processing_job_request

from .models import ProductImage

logger = logging.getLogger(__name__)

# What the product pages ask for: three widths for srcset, WebP with a JPEG fallback.
RENDITION_WIDTHS = (320, 640, 1280)
RENDITION_FORMATS: tuple[Literal["webp"], Literal["jpeg"]] = ("webp", "jpeg")
PLACEHOLDER_RESULT_NAME = "placeholder.json"
_COLOUR = re.compile(r"\A#[0-9a-f]{6}\Z")


def _file_sha256(image: ProductImage) -> str:
    digest = hashlib.sha256()
    with image.image.open("rb") as source:
        for chunk in source.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def renditions_request_key(*, image: ProductImage) -> str:
    return f"renditions-{image.pk}-{image.content_hash[:16]}"


def product_image_renditions_request(*, image: ProductImage) -> ProcessingJob | None:
    """Ask for the renditions of a saved product image, unless its file was already asked for.

    A new file (other bytes) forgets the old renditions, so the page shows the new original
    until the new renditions exist. Returns None when nothing had to be asked.
    """
    if not image.image:
        return None
    content_hash = _file_sha256(image)
    if content_hash != image.content_hash:
        image.content_hash = content_hash
        image.renditions = []
        image.placeholder_colour = ""
        image.save(update_fields=["content_hash", "renditions", "placeholder_colour"])
    key = renditions_request_key(image=image)
    if ProcessingJob.objects.filter(request_key=key).exists():
        return None
    request = ImageRenditionsJobCreate(
        subject=SubjectReference(type="product_image", reference=str(image.pk)),
        input=ImageRenditionsInput(
            source_location=str(image.image.name),
            widths=list(RENDITION_WIDTHS),
            formats=list(RENDITION_FORMATS),
        ),
    )
    return processing_job_request(request=request, request_key=key)


def _placeholder_colour(row: ProcessingJob) -> str:
    location = next(
        (
            item["location"]
            for item in row.result_locations
            if item.get("name") == PLACEHOLDER_RESULT_NAME
        ),
        None,
    )
    if location is None:
        return ""
    try:
        with default_storage.open(location, "rb") as placeholder:
            colour = json.loads(placeholder.read(4096)).get("dominant_colour", "")
    except (OSError, ValueError, AttributeError):
        logger.warning("unreadable placeholder for processing job %s", row.pk)
        return ""
    return colour if isinstance(colour, str) and _COLOUR.match(colour) else ""


def renditions_apply(row: ProcessingJob) -> None:
    """The result handler of `image_renditions`: the image's renditions and placeholder."""
    image = ProductImage.objects.filter(pk=int(row.subject_reference)).first()
    # A result for an older file of this image (re-uploaded since) must not replace the
    # renditions of the current one.
    if image is None or renditions_request_key(image=image) != row.request_key:
        return
    image.renditions = [
        {
            "location": item["location"],
            "media_type": item["media_type"],
            "width": item["width"],
            "height": item["height"],
        }
        for item in row.result_locations
        if str(item.get("media_type", "")).startswith("image/") and "width" in item
    ]
    image.placeholder_colour = _placeholder_colour(row)
    image.save(update_fields=["renditions", "placeholder_colour"])
