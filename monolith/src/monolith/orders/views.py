"""Checkout, the order page with its live status, and a signed-in shopper's orders."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from monolith.accounts.models import User
from monolith.cart.selectors import cart_for_request, cart_summary
from monolith.cart.services import cart_get_or_create_for_request
from monolith.core.errors import DomainError
from monolith.jobs.selectors import order_invoice_job, order_invoice_location

from .forms import CheckoutForm
from .models import Order
from .selectors import (
    SESSION_ORDERS_KEY,
    order_list_for_user,
    order_visible_to,
    payment_page_url,
)
from .services import order_place


class SignedInRequest(HttpRequest):
    """A request that passed `login_required`, so its user is signed in."""

    user: User


def _signed_in_user(request: HttpRequest) -> User | None:
    return request.user if request.user.is_authenticated else None


def _visible_order(request: HttpRequest, public_id: uuid.UUID) -> Order:
    """The order if this shopper may see it (theirs, or placed in this session); else 404."""
    try:
        return order_visible_to(
            public_id=public_id,
            user=request.user,
            session_order_ids=request.session.get(SESSION_ORDERS_KEY, []),
        )
    except Order.DoesNotExist as error:
        raise Http404("No such order.") from error


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """The shipping form next to the cart's summary; a valid post places the order."""
    user = _signed_in_user(request)
    form = CheckoutForm(request.POST or None, initial={"email": getattr(user, "email", "")})
    if request.method == "POST" and form.is_valid():
        try:
            order = order_place(
                cart=cart_get_or_create_for_request(request),
                email=form.cleaned_data["email"],
                shipping=form.shipping_address(),
                user=user,
            )
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("cart:detail")
        # A guest may see the orders placed in this session; order_visible_to checks the list.
        request.session[SESSION_ORDERS_KEY] = [
            *request.session.get(SESSION_ORDERS_KEY, []),
            order.pk,
        ]
        messages.success(request, f"Thank you! We have your order {order.number}.")
        order_page = reverse("orders:detail", kwargs={"public_id": order.public_id})
        return redirect(
            payment_page_url(order=order, return_url=request.build_absolute_uri(order_page))
        )
    summary = cart_summary(cart_for_request(request))
    if summary.is_empty:
        messages.info(request, "Your cart is empty: add a product before checking out.")
        return redirect("cart:detail")
    return render(request, "orders/checkout.html", {"form": form, "summary": summary})


@require_GET
@login_required
def my_orders(request: SignedInRequest) -> HttpResponse:
    """The signed-in shopper's orders, newest first."""
    orders = order_list_for_user(user=request.user)
    return render(request, "orders/mine.html", {"orders": orders})


@require_GET
def order_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The order page: status and timeline (live until final), lines, totals, address."""
    order = _visible_order(request, public_id)
    invoice_job = order_invoice_job(order_number=order.number)
    return render(request, "orders/detail.html", {"order": order, "invoice_job": invoice_job})


@require_GET
@never_cache
def order_status(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The order page's status fragment that htmx polls until the order is final."""
    order = _visible_order(request, public_id)
    return render(request, "orders/partials/status.html", {"order": order})


@require_GET
@never_cache
def order_invoice_status(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The invoice fragment that htmx polls until the invoice exists (or cannot)."""
    order = _visible_order(request, public_id)
    invoice_job = order_invoice_job(order_number=order.number)
    return render(
        request, "orders/partials/invoice.html", {"order": order, "invoice_job": invoice_job}
    )


@require_GET
def order_invoice_download(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """The invoice PDF, for the order's owner or staff only; read from where processing
    stored it, so that processing's own URLs never reach the shopper."""
    order = _visible_order(request, public_id)
    location = order_invoice_location(order_number=order.number)
    if location is None or not default_storage.exists(location):
        raise Http404("This order has no invoice yet.")
    response = FileResponse(
        default_storage.open(location, "rb"),
        as_attachment=True,
        filename=f"invoice-{order.number}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response
