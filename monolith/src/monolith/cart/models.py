import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from monolith.catalog.models import Product
from monolith.core.money import to_cents


class Cart(models.Model):
    """A shopper's cart: anonymous carts are found through the session, others by user.

    API clients hold `public_id`, an unguessable handle, instead of the sequential key.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cart",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_line_one_per_product"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="cart_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def total(self) -> Decimal:
        """Price × quantity in cents; needs the product loaded."""
        return to_cents(self.product.price * self.quantity)
