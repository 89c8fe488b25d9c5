"""Move the catalog's version on with every change a shopper could see (catalog_version.py).

A product or category saved or deleted moves it. A product's images live in their own
table: a saved or deleted image moves it too, and touches its product, whose `updated_at`
keys each product card's cached markup (catalog/partials/product_card.html). Bulk updates of
stock (orders.services) and bulk seeds (demo.services) move it themselves.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .catalog_version import catalog_changed
from .models import Category, Product, ProductImage


@receiver(post_save, sender=ProductImage, dispatch_uid="catalog.image_saved_touches_product")
@receiver(post_delete, sender=ProductImage, dispatch_uid="catalog.image_deleted_touches_product")
def product_touch_on_image_change(
    sender: type[ProductImage], instance: ProductImage, **_: Any
) -> None:
    Product.objects.filter(pk=instance.product_id).update(updated_at=timezone.now())
    catalog_changed()


@receiver(post_save, sender=Product, dispatch_uid="catalog.product_saved_moves_version")
@receiver(post_delete, sender=Product, dispatch_uid="catalog.product_deleted_moves_version")
@receiver(post_save, sender=Category, dispatch_uid="catalog.category_saved_moves_version")
@receiver(post_delete, sender=Category, dispatch_uid="catalog.category_deleted_moves_version")
def catalog_version_move_on_change(sender: type[Product | Category], **_: Any) -> None:
    catalog_changed()
