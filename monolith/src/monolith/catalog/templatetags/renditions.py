"""Responsive images from the renditions the processing service made (ProductImage.renditions).

The URLs are media URLs of the shared storage (MEDIA_URL): Django serves them under `make
run`, nginx (or the object store) in deployment; processing's own URLs never reach a page.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.core.files.storage import default_storage

register = template.Library()


def _by_type(image: Any, media_type: str) -> list[dict[str, Any]]:
    renditions = getattr(image, "renditions", None) or []
    return sorted(
        (item for item in renditions if item.get("media_type") == media_type),
        key=lambda item: int(item["width"]),
    )


@register.filter
def rendition_srcset(image: Any, media_type: str) -> str:
    """``"<url> 320w, <url> 640w, <url> 1280w"`` for the renditions of one media type."""
    return ", ".join(
        f"{default_storage.url(item['location'])} {int(item['width'])}w"
        for item in _by_type(image, media_type)
    )


@register.filter
def rendition_fallback(image: Any, media_type: str) -> dict[str, Any] | None:
    """The rendition for ``src`` (browsers without srcset): the middle width of the type."""
    renditions = _by_type(image, media_type)
    if not renditions:
        return None
    chosen = renditions[len(renditions) // 2]
    return {
        "url": default_storage.url(chosen["location"]),
        "width": chosen["width"],
        "height": chosen["height"],
    }
