"""Keep `Product.updated_at` the version of everything a product's cached fragments show.

Pages cache each product's markup under its `updated_at` (catalog/partials/product_card.html,
catalog/product_detail.html), so any change a shopper could see must move it. Saving the
product does (auto_now); its images live in their own table, so a saved or deleted image
touches its product here. Bulk updates of stock (orders.services) set it themselves.
Any product or category saved or deleted also moves the listing's count generation
(catalog/listing_cache.py).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .listing_cache import listing_changed
from .models import Category, Product, ProductImage


@receiver(post_save, sender=ProductImage, dispatch_uid="catalog.image_saved_touches_product")
@receiver(post_delete, sender=ProductImage, dispatch_uid="catalog.image_deleted_touches_product")
def product_touch_on_image_change(
    sender: type[ProductImage], instance: ProductImage, **_: Any
) -> None:
    Product.objects.filter(pk=instance.product_id).update(updated_at=timezone.now())


@receiver(post_save, sender=Product, dispatch_uid="catalog.product_saved_recounts")
@receiver(post_delete, sender=Product, dispatch_uid="catalog.product_deleted_recounts")
@receiver(post_save, sender=Category, dispatch_uid="catalog.category_saved_recounts")
@receiver(post_delete, sender=Category, dispatch_uid="catalog.category_deleted_recounts")
def listing_recount_on_change(sender: type[Product | Category], **_: Any) -> None:
    listing_changed()
    # Again once committed: a page counted between the change and the commit saw the old rows.
    transaction.on_commit(listing_changed)
