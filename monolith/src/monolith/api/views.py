"""The storefront API: thin DRF views over the same selectors and services as the pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed, NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from monolith.accounts.models import User
from monolith.cart.models import Cart, CartLine
from monolith.cart.selectors import (
    CartSummary,
    cart_get_for_shopper,
    cart_line_product,
    cart_summary,
)
from monolith.cart.services import (
    cart_add_product,
    cart_create,
    cart_remove_product,
    cart_set_quantity,
)
from monolith.catalog.models import Category, Product
from monolith.catalog.selectors import (
    SORT_ORDERINGS,
    CatalogQuery,
    category_list,
    product_for_sale_by_sku,
    product_get,
    product_list,
)
from monolith.orders.models import Order
from monolith.orders.selectors import order_get_for_user, order_list_for_user, payment_page_url
from monolith.orders.services import ShippingAddress, order_place

from . import serializers
from .pagination import StableCursorPagination

ORDER_ID_PLACEHOLDER = "{order_id}"


class TokenCreateView(APIView):
    """Trade a username and password for the API token sent as `Authorization: Token …`."""

    authentication_classes: list[type] = []  # credentials travel in the body, not a session
    # A stricter limit here than elsewhere slows down password guessing.
    throttle_classes = [AnonRateThrottle, ScopedRateThrottle]
    throttle_scope = "auth"

    def get_authenticate_header(self, request: Request) -> str:
        # Without authentication classes DRF would turn a wrong password into a 403; it is a
        # 401, challenging for the token this endpoint hands out.
        return 'Token realm="api"'

    @extend_schema(
        request=serializers.TokenRequestSerializer, responses=serializers.TokenSerializer
    )
    def post(self, request: Request) -> Response:
        body = serializers.TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # The Django request: django-axes counts the failure against it, and its middleware
        # answers a locked-out account or address with a 429 and Retry-After.
        user = authenticate(request._request, **body.validated_data)
        if user is None or not user.is_active:
            raise AuthenticationFailed("Unknown username or wrong password.")
        token, _ = Token.objects.get_or_create(user=user)
        return Response(serializers.TokenSerializer(token).data)


class CategoryListView(generics.ListAPIView[Category]):
    """Every category, in display order."""

    serializer_class = serializers.CatalogCategorySerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Category]:
        return category_list()


class ProductListView(generics.ListAPIView[Product]):
    """Active products: full-text search, category filter, sort, cursor pages."""

    serializer_class = serializers.CatalogProductSerializer
    pagination_class = StableCursorPagination
    cursor_ordering: tuple[str, ...] = SORT_ORDERINGS["name"]

    @extend_schema(parameters=[serializers.CatalogQuerySerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Product]:
        # A plain dict, not the QueryDict: DRF would read a blank `sort=` as "not given".
        params = serializers.CatalogQuerySerializer(data=self.request.query_params.dict())
        params.is_valid(raise_exception=True)
        query = CatalogQuery(
            search=params.validated_data.get("search", "").strip(),
            category=params.validated_data.get("category", ""),
            sort=params.validated_data["sort"],
        )
        self.cursor_ordering = SORT_ORDERINGS[params.validated_data["sort"]]
        # The cursor orders by the chosen sort, not by search relevance.
        return product_list(query=CatalogQuery(search=query.search, category=query.category))


class ProductDetailView(APIView):
    @extend_schema(responses=serializers.CatalogProductDetailSerializer)
    def get(self, request: Request, slug: str) -> Response:
        """One active product with its description, stock and images."""
        try:
            product = product_get(slug=slug)
        except Product.DoesNotExist as error:
            raise NotFound("No such product.") from error
        data = serializers.CatalogProductDetailSerializer(product, context={"request": request})
        return Response(data.data)


@dataclass(frozen=True)
class CartView:
    cart: Cart
    summary: CartSummary
    currency: str = settings.TESSERA_CURRENCY


def _cart_response(cart: Cart, status_code: int = status.HTTP_200_OK) -> Response:
    view = CartView(cart=cart, summary=cart_summary(cart))
    return Response(serializers.CartSerializer(view).data, status=status_code)


def _shopper(request: Request) -> User | None:
    """The signed-in shopper, or None for a guest."""
    return request.user if isinstance(request.user, User) else None


def _cart_for(request: Request, cart_id: uuid.UUID) -> Cart:
    shopper = _shopper(request)
    try:
        return cart_get_for_shopper(public_id=cart_id, user_id=shopper.pk if shopper else None)
    except Cart.DoesNotExist as error:
        raise NotFound("No such cart.") from error


def _signed_in_user(request: Request) -> User:
    """The shopper behind a view that requires IsAuthenticated, typed as the user it is."""
    user = request.user
    if not isinstance(user, User):
        raise AuthenticationFailed()
    return user


class CartCreateView(APIView):
    @extend_schema(
        request=None, responses={200: serializers.CartSerializer, 201: serializers.CartSerializer}
    )
    def post(self, request: Request) -> Response:
        """A new cart; a signed-in shopper gets their own cart (200 when it already existed)."""
        cart, created = cart_create(user=_shopper(request))
        return _cart_response(cart, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CartDetailView(APIView):
    @extend_schema(responses=serializers.CartSerializer)
    def get(self, request: Request, cart_id: uuid.UUID) -> Response:
        """The cart's lines and totals."""
        return _cart_response(_cart_for(request, cart_id))


class CartLinesView(APIView):
    @extend_schema(request=serializers.CartLineAddSerializer, responses=serializers.CartSerializer)
    def post(self, request: Request, cart_id: uuid.UUID) -> Response:
        """Add units of a product; they add up with units already in the cart."""
        cart = _cart_for(request, cart_id)
        body = serializers.CartLineAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        product = product_for_sale_by_sku(sku=body.validated_data["sku"])
        if product is None:
            raise ValidationError({"sku": ["No product for sale has this SKU."]})
        cart_add_product(cart=cart, product=product, quantity=body.validated_data["quantity"])
        return _cart_response(cart)


class CartLineView(APIView):
    def _line_product(self, cart: Cart, sku: str) -> Product:
        try:
            return cart_line_product(cart=cart, sku=sku)
        except CartLine.DoesNotExist as error:
            raise NotFound("The cart has no line for this SKU.") from error

    @extend_schema(
        request=serializers.CartLineQuantitySerializer, responses=serializers.CartSerializer
    )
    def put(self, request: Request, cart_id: uuid.UUID, sku: str) -> Response:
        """Set a line's quantity; 0 removes the line."""
        cart = _cart_for(request, cart_id)
        body = serializers.CartLineQuantitySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        product = self._line_product(cart, sku)
        cart_set_quantity(cart=cart, product=product, quantity=body.validated_data["quantity"])
        return _cart_response(cart)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, cart_id: uuid.UUID, sku: str) -> Response:
        """Remove a line from the cart."""
        cart = _cart_for(request, cart_id)
        cart_remove_product(cart=cart, product=self._line_product(cart, sku))
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderListView(generics.ListAPIView[Order]):
    """The signed-in shopper's orders, newest first; a POST checks out a cart."""

    serializer_class = serializers.OrderSummarySerializer
    pagination_class = StableCursorPagination
    permission_classes = [permissions.IsAuthenticated]
    cursor_ordering = ("-created_at", "-id")

    def get_queryset(self) -> QuerySet[Order]:
        return order_list_for_user(user=_signed_in_user(self.request))

    @extend_schema(
        request=serializers.OrderCreateSerializer,
        responses={201: serializers.OrderCheckoutSerializer},
    )
    def post(self, request: Request) -> Response:
        """Check out a cart: an order pending payment, and the page where the shopper pays."""
        # The same order_place as the pages' checkout: prices frozen, stock reserved and the
        # cart emptied in one transaction. API orders belong to a signed-in shopper, because
        # the API shows orders only to their owner (guests check out on the pages).
        body = serializers.OrderCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            cart = _cart_for(request, data["cart_id"])
        except NotFound as error:
            raise ValidationError({"cart_id": ["No such cart."]}) from error
        user = _signed_in_user(request)
        email = data.get("email") or user.email
        if not email:
            raise ValidationError({"email": ["This account has no email: give one."]})
        order = order_place(
            cart=cart,
            email=email,
            shipping=ShippingAddress(**data["shipping_address"]),
            user=user,
        )
        order = order_get_for_user(public_id=order.public_id, user=user)
        # The client cannot know the order's id before this call, so it may leave a
        # placeholder in its return_url (as Stripe's success_url does with its session id).
        return_url = data["return_url"].replace(ORDER_ID_PLACEHOLDER, str(order.public_id))
        order.payment_url = payment_page_url(order=order, return_url=return_url)  # type: ignore[attr-defined]
        response = Response(
            serializers.OrderCheckoutSerializer(order).data, status=status.HTTP_201_CREATED
        )
        response["Location"] = request.build_absolute_uri(
            reverse("api:order_detail", kwargs={"order_id": order.public_id})
        )
        return response


class OrderDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=serializers.OrderDetailSerializer)
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        """One of the signed-in shopper's orders, with lines, timeline and address."""
        try:
            order = order_get_for_user(public_id=order_id, user=_signed_in_user(request))
        except Order.DoesNotExist as error:
            raise NotFound("No such order.") from error
        return Response(serializers.OrderDetailSerializer(order).data)
