from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Category(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


def _default_currency() -> str:
    return str(settings.TESSERA_CURRENCY)


def for_sale_condition(path: str = "") -> Q:
    """The one rule for what a shopper can buy: an active product.

    `path` reaches the product from another model (``"product__"`` from a cart line), so a
    filter over lines applies the same rule as one over products.
    """
    return Q(**{f"{path}is_active": True})


class ProductQuerySet(models.QuerySet["Product"]):
    def for_sale(self) -> ProductQuerySet:
        return self.filter(for_sale_condition())


class Product(models.Model):
    sku = models.CharField("SKU", max_length=40, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default=_default_currency)
    stock = models.IntegerField(default=0, help_text="Units available to sell now.")
    is_active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            # The database keeps these rules even if a bug in Python does not.
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="product_currency_iso_4217"
            ),
        ]
        # One index per listing order (see selectors.SORT_ORDERINGS): the page's LIMIT then
        # reads a few index entries instead of sorting every active product.
        indexes = [
            models.Index(fields=["is_active", "category", "name"], name="product_listing_idx"),
            models.Index(fields=["is_active", "name", "id"], name="product_by_name_idx"),
            models.Index(fields=["is_active", "price", "id"], name="product_by_price_idx"),
            models.Index(fields=["is_active", "-created_at", "-id"], name="product_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def is_for_sale(self) -> bool:
        """for_sale_condition, for a product already loaded."""
        return self.is_active


class ProductImage(models.Model):
    """An original image as staff uploaded it; renditions are made by the processing service."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to="products/originals/", width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    alt_text = models.CharField(max_length=200, help_text="Describes the image for screen readers.")
    position = models.PositiveIntegerField(default=0)
    # What the processing service made of the file (monolith.jobs): the SHA-256 of the file
    # the renditions were asked for (a re-upload of other bytes asks again), the renditions
    # as [{"location", "media_type", "width", "height"}], and the dominant colour shown while
    # they load. Empty until the job's result arrives; the page shows the original until then.
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    renditions = models.JSONField(default=list, blank=True, editable=False)
    placeholder_colour = models.CharField(max_length=7, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt_text
