"""Cart pages and actions.

Every action answers two kinds of clients: an htmx request gets the changed fragment back
with a `cart-updated` event (the header's mini-cart listens for it), a plain form post is
redirected back with a message (post/redirect/get). A refused action answers htmx with the
fragment and the reason under status 422, and a plain post with an error message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from monolith.catalog.models import Product
from monolith.core.errors import DomainError

from .forms import AddToCartForm, SetQuantityForm
from .models import Cart
from .selectors import cart_for_request, cart_summary
from .services import (
    cart_add_product,
    cart_get_or_create_for_request,
    cart_remove_product,
    cart_set_quantity,
)

CART_UPDATED_EVENT = "cart-updated"
CART_BODY_TEMPLATE = "cart/partials/cart_body.html"
ADD_RESULT_TEMPLATE = "catalog/partials/add_to_cart_result.html"


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware."""

    htmx: HtmxDetails


def _next_url(request: HttpRequest) -> str:
    """Where a plain form post goes back to: the posted `next` if it is ours, else the cart."""
    candidate = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("cart:detail")


def _done(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], message: str
) -> HttpResponse:
    """htmx: the fragment plus the cart-updated event; a form post: back, with the message."""
    if request.htmx:
        response = render(request, template, {**context, "message": message})
        return trigger_client_event(response, CART_UPDATED_EVENT)
    messages.success(request, message)
    return redirect(_next_url(request))


def _refused(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], error: DomainError
) -> HttpResponse:
    """htmx: the fragment with the reason, status 422; a form post: back, with the reason."""
    if request.htmx:
        return render(request, template, {**context, "error": str(error)}, status=422)
    messages.error(request, str(error))
    return redirect(_next_url(request))


def _cart_body(request: HtmxHttpRequest, cart: Cart | None) -> dict[str, Any]:
    # Only htmx answers show the cart body; a redirect needs no summary.
    return {"summary": cart_summary(cart)} if request.htmx else {}


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    """The cart page: lines with quantity and remove forms, totals, and the way to checkout."""
    summary = cart_summary(cart_for_request(request))
    return render(request, "cart/detail.html", {"summary": summary})


@require_GET
@never_cache
def mini_cart(request: HttpRequest) -> HttpResponse:
    """The header's mini-cart; its count comes from the `mini_cart` context processor."""
    return render(request, "cart/partials/mini_cart.html")


@require_POST
def cart_add(request: HtmxHttpRequest, product_id: int) -> HttpResponse:
    """Add units of a product (one unless a quantity is posted)."""
    product = get_object_or_404(Product, pk=product_id)
    context = {"product": product}
    try:
        quantity = AddToCartForm(request.POST).valid_quantity()
        cart_add_product(
            cart=cart_get_or_create_for_request(request), product=product, quantity=quantity
        )
    except DomainError as error:
        return _refused(request, ADD_RESULT_TEMPLATE, context, error)
    message = f"Added {quantity} × {product.name} to your cart."
    return _done(request, ADD_RESULT_TEMPLATE, context, message)


@require_POST
def cart_update(request: HtmxHttpRequest, product_id: int) -> HttpResponse:
    """Set a line's quantity; zero removes the line."""
    product = get_object_or_404(Product, pk=product_id)
    cart = cart_get_or_create_for_request(request)
    try:
        quantity = SetQuantityForm(request.POST).valid_quantity()
        line = cart_set_quantity(cart=cart, product=product, quantity=quantity)
    except DomainError as error:
        return _refused(request, CART_BODY_TEMPLATE, _cart_body(request, cart), error)
    if line is None:
        message = f"Removed {product.name} from your cart."
    else:
        message = f"You now have {line.quantity} × {product.name} in your cart."
    return _done(request, CART_BODY_TEMPLATE, _cart_body(request, cart), message)


@require_POST
def cart_remove(request: HtmxHttpRequest, product_id: int) -> HttpResponse:
    """Remove a product's line from the cart; removing what is not there is not an error."""
    product = get_object_or_404(Product, pk=product_id)
    cart = cart_for_request(request)
    if cart is not None:
        cart_remove_product(cart=cart, product=product)
    message = f"Removed {product.name} from your cart."
    return _done(request, CART_BODY_TEMPLATE, _cart_body(request, cart), message)
