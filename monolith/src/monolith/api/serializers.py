"""Shapes of the storefront API's requests and responses (component names in the contract)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import RegexValidator
from rest_framework import serializers

from monolith.cart.services import MAX_QUANTITY_PER_LINE
from monolith.catalog.models import Category, Product, ProductImage
from monolith.catalog.selectors import SORT_ORDERINGS
from monolith.orders.countries import COUNTRY_NAMES
from monolith.orders.models import Order, OrderLine, OrderTransition
from monolith.orders.services import ShippingAddress

# Text may hold anything but NUL, which DRF (and PostgreSQL) refuse; saying so as a schema
# `pattern` keeps the contract honest about what gets a 400. Patterns use `$`, not `\Z`:
# they must mean the same in Python and in JSON Schema's ECMA regular expressions.
NO_NUL_CHARACTERS = RegexValidator(r"^[^\x00]*$", "Null characters are not allowed.")


INT64_MAX = 2**63 - 1  # the published `format: int64` of counts in responses


class JsonIntegerField(serializers.IntegerField):
    """An integer in a JSON body: a JSON number, as the schema's `type: integer` says.

    DRF's IntegerField also takes "3" (and 3.0 and true), which a client generated from the
    contract would never send, and a client written by hand would then depend on. A whole
    float such as 3.0 stays accepted: JSON Schema counts it as an integer.
    """

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value


def money(source: str | None = None) -> serializers.DecimalField:
    """A read-only amount, sent as an exact decimal string such as "12.50"."""
    if source is None:
        return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, source=source)


class CatalogCategorySerializer(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["slug", "name", "description"]


class CatalogImageSerializer(serializers.ModelSerializer[ProductImage]):
    url = serializers.ImageField(source="image", read_only=True)

    class Meta:
        model = ProductImage
        fields = ["url", "alt_text", "width", "height"]


class CatalogProductSerializer(serializers.ModelSerializer[Product]):
    category: serializers.SlugRelatedField[Category] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    in_stock = serializers.BooleanField(read_only=True)
    images = CatalogImageSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["sku", "slug", "name", "category", "price", "currency", "in_stock", "images"]


class CatalogProductDetailSerializer(CatalogProductSerializer):
    # Declared rather than derived from the model: derived integer fields take their bounds
    # from the connected database, and the contract must not depend on which one that is.
    stock = serializers.IntegerField(read_only=True, min_value=0, max_value=INT64_MAX)

    class Meta(CatalogProductSerializer.Meta):
        fields = [*CatalogProductSerializer.Meta.fields, "description", "stock"]


class CatalogQuerySerializer(serializers.Serializer[dict[str, str]]):
    """Query parameters of the product listing."""

    # Omit a filter rather than send it blank: blank values are refused, which keeps the
    # schema a plain string (drf-spectacular describes "blank or pattern" with an ambiguous oneOf).
    # Not trimmed here: a whitespace-only search is valid in the schema (minLength 1), and the
    # view reads it, trimmed, as no search at all (it was a 400).
    search = serializers.CharField(
        required=False, max_length=200, trim_whitespace=False, validators=[NO_NUL_CHARACTERS]
    )
    category = serializers.SlugField(required=False, max_length=140)
    sort = serializers.ChoiceField(choices=sorted(SORT_ORDERINGS), required=False, default="name")


class CartLineSerializer(serializers.Serializer[object]):
    sku = serializers.CharField(source="product.sku", read_only=True)
    slug = serializers.CharField(source="product.slug", read_only=True)
    name = serializers.CharField(source="product.name", read_only=True)
    unit_price = money("product.price")
    quantity = serializers.IntegerField(read_only=True)
    total = money()


class CartTotalsSerializer(serializers.Serializer[object]):
    subtotal = money()
    shipping = money()
    tax = money()
    total = money()


class CartSerializer(serializers.Serializer[object]):
    """A cart as the API shows it: built from `api.views.CartView`, never saved through."""

    id = serializers.UUIDField(source="cart.public_id", read_only=True)
    lines = CartLineSerializer(source="summary.lines", many=True, read_only=True)
    item_count = serializers.IntegerField(source="summary.item_count", read_only=True)
    currency = serializers.CharField(read_only=True)
    totals = CartTotalsSerializer(source="summary.totals", read_only=True)


class CartLineAddSerializer(serializers.Serializer[dict[str, object]]):
    sku = serializers.CharField(max_length=40)
    quantity = JsonIntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE, default=1)


class CartLineQuantitySerializer(serializers.Serializer[dict[str, int]]):
    quantity = JsonIntegerField(
        min_value=0, max_value=MAX_QUANTITY_PER_LINE, help_text="0 removes the line."
    )


class OrderSummarySerializer(serializers.ModelSerializer[Order]):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "status", "currency", "total", "created_at"]


class OrderLineSerializer(serializers.ModelSerializer[OrderLine]):
    quantity = serializers.IntegerField(read_only=True, min_value=1, max_value=INT64_MAX)

    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity", "line_total"]


class OrderTransitionSerializer(serializers.ModelSerializer[OrderTransition]):
    class Meta:
        model = OrderTransition
        fields = ["from_status", "to_status", "cause", "created_at"]


class ShippingAddressSerializer(serializers.Serializer[object]):
    name = serializers.CharField(source="shipping_name", read_only=True)
    line1 = serializers.CharField(source="shipping_line1", read_only=True)
    line2 = serializers.CharField(source="shipping_line2", read_only=True)
    postal_code = serializers.CharField(source="shipping_postal_code", read_only=True)
    city = serializers.CharField(source="shipping_city", read_only=True)
    country = serializers.CharField(source="shipping_country", read_only=True)


class OrderDetailSerializer(OrderSummarySerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    timeline = OrderTransitionSerializer(source="transitions", many=True, read_only=True)
    shipping_address = ShippingAddressSerializer(source="*", read_only=True)
    payment_reference = serializers.CharField(source="payment.reference", read_only=True)

    class Meta(OrderSummarySerializer.Meta):
        fields = [
            *OrderSummarySerializer.Meta.fields,
            "subtotal",
            "shipping",
            "tax",
            "lines",
            "timeline",
            "shipping_address",
            "payment_reference",
        ]


class TokenRequestSerializer(serializers.Serializer[dict[str, str]]):
    # The validators become `pattern`s in the contract, so clients know what is refused.
    username = serializers.CharField(
        max_length=150,
        validators=[RegexValidator(r"^[\w.@+-]+$")],
        help_text="Letters, digits and @.+-_",
    )
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, validators=[NO_NUL_CHARACTERS]
    )


class TokenSerializer(serializers.Serializer[object]):
    token = serializers.CharField(source="key", read_only=True)


class ShippingAddressInputSerializer(serializers.Serializer[ShippingAddress]):
    """Where to ship, with the same limits as the checkout form of the pages."""

    name = serializers.CharField(max_length=200, validators=[NO_NUL_CHARACTERS])
    line1 = serializers.CharField(max_length=200, validators=[NO_NUL_CHARACTERS])
    line2 = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", validators=[NO_NUL_CHARACTERS]
    )
    postal_code = serializers.CharField(max_length=20, validators=[NO_NUL_CHARACTERS])
    city = serializers.CharField(max_length=120, validators=[NO_NUL_CHARACTERS])
    # A pattern, not an enum of 249 codes in the contract; unknown codes get a 400 all the same.
    country = serializers.CharField(
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$")],
        help_text="ISO 3166-1 alpha-2 code, such as NL.",
    )

    def validate_country(self, value: str) -> str:
        if value not in COUNTRY_NAMES:
            raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code.")
        return value


class OrderCreateSerializer(serializers.Serializer[dict[str, object]]):
    cart_id = serializers.UUIDField(help_text="The cart to check out; it is empty afterwards.")
    email = serializers.EmailField(
        required=False, help_text="Where the confirmation goes; the account's email when left out."
    )
    shipping_address = ShippingAddressInputSerializer()
    return_url = serializers.URLField(
        max_length=2000,
        help_text=(
            "Where the payment page sends the shopper back, on an allowed storefront origin;"
            " `{order_id}` in it becomes the new order's id."
        ),
    )

    def validate_return_url(self, value: str) -> str:
        # Only the storefront apps on the CORS allow-list: anything else would turn checkout
        # into an open redirect through the payment page.
        parts = urlsplit(value)
        if f"{parts.scheme}://{parts.netloc}" not in settings.CORS_ALLOWED_ORIGINS:
            raise serializers.ValidationError("Not on an allowed storefront origin.")
        return value


class OrderCheckoutSerializer(OrderDetailSerializer):
    payment_url = serializers.URLField(
        read_only=True, help_text="The payment provider's page for this order: send the shopper."
    )

    class Meta(OrderDetailSerializer.Meta):
        fields = [*OrderDetailSerializer.Meta.fields, "payment_url"]
