"""The CSRF token as a slot in rendered HTML, filled with this shopper's token on the way out.

Templates render `{% csrf_token %}` and `{{ csrf_token }}` as a fixed slot instead of the
shopper's token, so any rendered markup, forms included, is the same for every shopper and
can be cached and shared (the catalog's pages, catalog/page_cache.py). The middleware then
puts a freshly masked token of this shopper's secret into each slot of an HTML response, as
Django's own tag would have: one masked value per response, never one shopper's token in
another's page, and the CSRF cookie set by CsrfViewMiddleware as usual.

Order: the context processor after Django's built-in `csrf` one (it overrides `csrf_token`),
and the middleware after CsrfViewMiddleware in MIDDLEWARE, so that its response step runs
first and CsrfViewMiddleware then sets the cookie that `get_token` asked for.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_TOKEN_LENGTH, get_token

# As long as a masked token, so that filling it keeps the body's length.
CSRF_TOKEN_SLOT = "tessera-csrf-token-slot-".ljust(CSRF_TOKEN_LENGTH, "0")
_SLOT = CSRF_TOKEN_SLOT.encode()


def csrf_token_slot(request: HttpRequest) -> dict[str, str]:
    """Context processor: templates render the slot where the shopper's token goes."""
    return {"csrf_token": CSRF_TOKEN_SLOT}


class CsrfTokenSlotMiddleware:
    """Fill every CSRF slot of an HTML response with a masked token of this shopper's secret."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and _SLOT in response.content
        ):
            response.content = response.content.replace(_SLOT, get_token(request).encode())
        return response
