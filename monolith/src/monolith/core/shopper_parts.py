"""The shopper's own parts of a page, filled in on the way out, so the rest can be shared.

base.html shows what belongs to one shopper in two places: the header (the account links
with their name and sign-out form, the mini cart's count) and the messages waiting for them.
It renders each as a *part* (`{% shopper_part "name" %}`): the markup a guest with nothing
of their own sees, between two markers. A page is then the same for every shopper who asks
for its URL, so a catalog page is cached whole and served to everyone, signed in or not
(catalog/page_cache.py). On the way out, ShopperPartsMiddleware renders each part this
shopper has something of their own in (signed in, items in the cart, messages) from the same
template with their data, and puts it between the part's markers; the header is kept in the
cache by everything it shows, so it is seldom rendered. What the parts show comes from the
cache too: the session (`cached_db`), the user (accounts/backends.py) and the cart's count
(cart/selectors.py), so a signed-in page served from the cache makes no query.

The CSP nonce is a slot too: the `csp_nonce` templates use (django-htmx's `{% htmx_script %}`
reads it) is a fixed string, replaced in each HTML response by that response's own nonce,
which django-csp then names in the response's header. A nonce read from `request.csp_nonce`
while rendering would be cached with the page and be wrong for every later response.

Order in MIDDLEWARE: after AuthenticationMiddleware (it reads the user) and after
MessageMiddleware, so its response step runs first and the messages it shows are marked read
before MessageMiddleware stores what is left; before CsrfTokenSlotMiddleware's response
step, which then fills the CSRF slots of the parts it rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine
from django.utils.safestring import SafeString, mark_safe

# The length of django-csp's nonces (16 random bytes in base64).
CSP_NONCE_SLOT = "tessera-csp-nonce-slot00"
_NONCE_SLOT = CSP_NONCE_SLOT.encode()
_PART_MARK = b"<!--shopper-part:"
# How long a rendered part is kept: its key holds everything it shows, so it is never stale.
PART_TTL_SECONDS = 24 * 60 * 60

# The template context a part is rendered with: the context processors' values.
PartContext = dict[str, Any]


@dataclass(frozen=True)
class ShopperPart:
    """A part of base.html that is one shopper's own."""

    name: str
    template: str
    # Whether this shopper has something of their own to show in it.
    is_their_own: Callable[[PartContext], bool]
    # Everything the rendered part depends on besides its template, when it is worth caching:
    # its markup is then kept in Django's cache under a template fragment key of these values.
    shows: Callable[[PartContext], tuple[object, ...]] | None = None

    @property
    def opening(self) -> str:
        return f"<!--shopper-part:{self.name}-->"

    @property
    def closing(self) -> str:
        return f"<!--/shopper-part:{self.name}-->"


def _view_name(request: HttpRequest) -> str:
    """The view answering (the header marks its link as the current page)."""
    return request.resolver_match.view_name if request.resolver_match else ""


PARTS = {
    part.name: part
    for part in (
        # The navigation with the account links, and the mini cart (its count comes from the
        # mini_cart context processor, as a callable).
        ShopperPart(
            "header",
            "includes/shopper_header.html",
            lambda context: bool(context["user"].is_authenticated or context["cart_item_count"]()),
            # Most responses then skip rendering it, and its URL reversals above all.
            shows=lambda context: (
                _view_name(context["request"]),
                context["user"].get_username(),
                context["user"].is_staff,
                context["cart_item_count"](),
            ),
        ),
        ShopperPart(
            "messages", "includes/messages.html", lambda context: bool(context["messages"])
        ),
    )
}
# What every part shows a guest with nothing of their own: the markup shared by everyone.
NOBODYS_OWN = {"user": AnonymousUser(), "cart_item_count": 0, "messages": ()}


def shopper_parts(request: HttpRequest) -> dict[str, str]:
    """Context processor: templates render the nonce slot where the response's nonce goes."""
    return {"csp_nonce": CSP_NONCE_SLOT}


def shopper_part_shared(part: ShopperPart, context: Context) -> SafeString:
    """The part as everyone sees it, between its markers (the `shopper_part` template tag)."""
    with context.push(NOBODYS_OWN):
        markup = Engine.get_default().get_template(part.template).render(context)
    return mark_safe(f"{part.opening}{markup}{part.closing}")  # noqa: S308 (rendered markup)


def _has_nothing_of_their_own(request: HttpRequest) -> bool:
    """Nothing in the session (so no sign-in, no cart) and no message waiting: the shared
    parts are this shopper's. Answered without reading anything for a first visit."""
    return request.session.is_empty() and not get_messages(request)


def _context_for(request: HttpRequest) -> PartContext:
    """What the context processors give a template rendered for this request, computed once
    for all the parts (their values are lazy: nothing is read that no part asks for)."""
    values: PartContext = {}
    for processor in Engine.get_default().template_context_processors:
        values.update(processor(request))
    return values


def _part_rendered(part: ShopperPart, context: PartContext) -> str:
    """The part as this shopper sees it, from the cache when it showed the same before."""

    def render() -> str:
        return Engine.get_default().get_template(part.template).render(Context(context))

    if part.shows is None:
        return render()
    key = make_template_fragment_key(f"shopper-part-{part.name}", part.shows(context))
    return cast(str, cache.get_or_set(key, render, timeout=PART_TTL_SECONDS))


def _between(content: bytes, part: ShopperPart, markup: bytes) -> bytes:
    opening, closing = part.opening.encode(), part.closing.encode()
    start = content.find(opening)
    end = content.find(closing, start)
    if start < 0 or end < 0:
        return content
    return content[: start + len(opening)] + markup + content[end:]


class ShopperPartsMiddleware:
    """Fill this shopper's parts and the CSP nonce slot into every HTML response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        content = response.content
        if _PART_MARK in content and not _has_nothing_of_their_own(request):
            content = _parts_filled(request, content)
        if _NONCE_SLOT in content:
            nonce: object = request.csp_nonce  # type: ignore[attr-defined]
            content = content.replace(_NONCE_SLOT, str(nonce).encode())
        response.content = content
        return response


def _parts_filled(request: HttpRequest, content: bytes) -> bytes:
    context = _context_for(request)
    for part in PARTS.values():
        if part.opening.encode() in content and part.is_their_own(context):
            content = _between(content, part, _part_rendered(part, context).encode())
    return content
