"""Seeding demo data: categories, products with images, a shopper and a staff user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from monolith.catalog.catalog_version import catalog_changed
from monolith.catalog.models import Category, Product, ProductImage

from .catalog_generator import CATEGORIES, demo_products, placeholder_png

BATCH_SIZE = 2_000
# Images are shared by products of a category and variant, so seeding 100,000 products
# writes a few dozen files rather than 100,000.
IMAGE_VARIANTS = 4

DEMO_SHOPPER = ("shopper", "shopper@example.com", "tessera-shopper")
DEMO_STAFF = ("staff", "staff@example.com", "tessera-staff")


@dataclass(frozen=True)
class SeedResult:
    categories: int
    products_created: int
    products_total: int


def demo_categories_ensure() -> list[Category]:
    categories = []
    for position, (name, description, _colour) in enumerate(CATEGORIES):
        category, _ = Category.objects.get_or_create(
            slug=name.lower().replace(" ", "-"),
            defaults={"name": name, "description": description, "position": position},
        )
        categories.append(category)
    return categories


def _image_pool() -> dict[tuple[int, int], str]:
    """Storage names of the placeholder images, written once and reused."""
    pool = {}
    for category_index, (name, _description, colour) in enumerate(CATEGORIES):
        for variant in range(IMAGE_VARIANTS):
            storage_name = f"products/originals/demo-{category_index}-{variant}.png"
            if not default_storage.exists(storage_name):
                shade = tuple(max(0, channel - 18 * variant) for channel in colour)
                content = placeholder_png(colour=shade, label=name)  # type: ignore[arg-type]
                storage_name = default_storage.save(storage_name, ContentFile(content))
            pool[(category_index, variant)] = storage_name
    return pool


def demo_catalog_seed(
    *, products: int, progress: Callable[[int, int], None] | None = None
) -> SeedResult:
    """Top the catalog up to `products` demo products with bulk inserts; safe to run again."""
    categories = demo_categories_ensure()
    existing = Product.objects.filter(sku__startswith="TS-").count()
    missing = max(0, products - existing)
    pool = _image_pool() if missing else {}
    created = 0
    while created < missing:
        size = min(BATCH_SIZE, missing - created)
        batch = list(demo_products(size, start=existing + created))
        with transaction.atomic():
            rows = Product.objects.bulk_create(
                Product(
                    sku=item.sku,
                    name=item.name,
                    slug=item.slug,
                    description=item.description,
                    category=categories[item.category_index],
                    price=item.price,
                    stock=item.stock,
                )
                for item in batch
            )
            ProductImage.objects.bulk_create(
                ProductImage(
                    product=row,
                    image=pool[(item.category_index, index % IMAGE_VARIANTS)],
                    width=640,
                    height=640,
                    alt_text=f"{item.name}, product photo",
                )
                for index, (row, item) in enumerate(zip(rows, batch, strict=True))
            )
        created += size
        if progress:
            progress(created, missing)
    if created:
        catalog_changed()  # bulk_create sends no post_save: say it here
    return SeedResult(
        categories=len(categories),
        products_created=created,
        products_total=existing + created,
    )


def demo_users_ensure() -> None:
    """The demo shopper and staff user, with the passwords `make run` prints."""
    user_model = get_user_model()
    for (username, email, password), is_staff in ((DEMO_SHOPPER, False), (DEMO_STAFF, True)):
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"email": email}
        )
        if created or not user.check_password(password):
            user.set_password(password)
        user.is_staff = is_staff
        user.is_superuser = is_staff
        user.save()
