"""Writes to carts: add, change quantity, remove, and merge a session cart at login."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from monolith.accounts.models import User
from monolith.catalog.models import Product, for_sale_condition
from monolith.core.errors import DomainError
from monolith.core.row_locks import rows_locked

from .models import Cart, CartLine
from .selectors import SESSION_CART_KEY, cart_for_request

MAX_QUANTITY_PER_LINE = 99


class QuantityError(DomainError):
    pass


def _check_quantity(*, product: Product, quantity: int) -> None:
    if quantity < 1 or quantity > MAX_QUANTITY_PER_LINE:
        raise QuantityError(f"Choose a quantity between 1 and {MAX_QUANTITY_PER_LINE}.")
    if not product.is_for_sale:
        raise QuantityError(f"{product.name} is no longer sold.")
    if quantity > product.stock:
        raise QuantityError(f"Only {product.stock} of {product.name} left in stock.")


def _lock(cart: Cart) -> None:
    """Serialise changes to one cart, so two quick clicks cannot both insert the same line."""
    rows_locked(Cart.objects.filter(pk=cart.pk))


@transaction.atomic
def cart_add_product(*, cart: Cart, product: Product, quantity: int = 1) -> CartLine:
    """Add units of a product, merging with the line already in the cart."""
    _lock(cart)
    line = CartLine.objects.filter(cart=cart, product=product).first()
    new_quantity = quantity + (line.quantity if line else 0)
    _check_quantity(product=product, quantity=new_quantity)
    if line is None:
        line = CartLine.objects.create(cart=cart, product=product, quantity=quantity)
    else:
        CartLine.objects.filter(pk=line.pk).update(quantity=F("quantity") + quantity)
        line.quantity = new_quantity
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def cart_set_quantity(*, cart: Cart, product: Product, quantity: int) -> CartLine | None:
    """Set a line's quantity; zero removes the line."""
    if quantity == 0:
        cart_remove_product(cart=cart, product=product)
        return None
    _check_quantity(product=product, quantity=quantity)
    _lock(cart)
    line, _ = CartLine.objects.update_or_create(
        cart=cart, product=product, defaults={"quantity": quantity}
    )
    cart.save(update_fields=["updated_at"])
    return line


def cart_remove_product(*, cart: Cart, product: Product) -> None:
    CartLine.objects.filter(cart=cart, product=product).delete()
    cart.save(update_fields=["updated_at"])


def cart_clear(*, cart: Cart) -> None:
    CartLine.objects.filter(cart=cart).delete()
    cart.save(update_fields=["updated_at"])


@transaction.atomic
def cart_merge(*, source: Cart, target: Cart) -> Cart:
    """Move a session cart's lines into the user's cart, then delete the session cart.

    Quantities add up and are capped by stock and the per-line limit, so a merge never
    makes a cart that checkout would refuse.
    """
    if source.pk == target.pk:
        return target
    existing = {line.product_id: line for line in rows_locked(target.lines.all())}
    for line in source.lines.filter(for_sale_condition("product__")).select_related("product"):
        limit = min(line.product.stock, MAX_QUANTITY_PER_LINE)
        merged = min(line.quantity + getattr(existing.get(line.product_id), "quantity", 0), limit)
        if merged < 1:
            continue
        CartLine.objects.update_or_create(
            cart=target, product=line.product, defaults={"quantity": merged}
        )
    source.delete()
    target.save(update_fields=["updated_at"])
    return target


def cart_create(*, user: User | None) -> tuple[Cart, bool]:
    """A new cart for a guest; a signed-in shopper's one cart, created on first use.

    Returns the cart and whether it was created.
    """
    if user is not None:
        return Cart.objects.get_or_create(user=user)
    return Cart.objects.create(), True


def cart_get_or_create_for_request(request: HttpRequest) -> Cart:
    """The request's cart, created on first use and remembered in the session or by user."""
    cart = cart_for_request(request)
    if cart is not None:
        return cart
    user = request.user if isinstance(request.user, User) else None
    cart, _ = cart_create(user=user)
    if user is None:
        request.session[SESSION_CART_KEY] = cart.pk
    return cart


def cart_adopt_session_cart(*, request: HttpRequest, user: User) -> None:
    """At login: fold the anonymous session cart into the user's cart."""
    cart_id = request.session.pop(SESSION_CART_KEY, None)
    if cart_id is None:
        return
    session_cart = Cart.objects.filter(pk=cart_id, user__isnull=True).first()
    if session_cart is None:
        return
    user_cart, _ = cart_create(user=user)
    cart_merge(source=session_cart, target=user_cart)
