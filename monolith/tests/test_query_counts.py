"""The catalog and product pages cost the same number of queries for 20 or 2,000 products."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monolith.catalog.models import Product
from monolith.demo.services import demo_catalog_seed

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def page_costs(client) -> dict[str, int]:
    """Each page's queries from a cold cache: the signed-in shopper's user and cart count
    are cached per shopper, not per catalog version, and would be read once only."""
    cache.clear()
    product = Product.objects.order_by("id").first()
    assert product is not None
    return {
        "catalog": queries_for(client, reverse("catalog:product_list")),
        "catalog, page 2 by price": queries_for(
            client, reverse("catalog:product_list") + "?page=2&sort=price"
        ),
        "search": queries_for(client, reverse("catalog:product_list") + "?q=mug"),
        "product": queries_for(client, reverse("catalog:product_detail", args=[product.slug])),
    }


@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "signed-in"])
def test_page_query_counts_do_not_grow_with_the_catalog(client, media_root, shopper, signed_in):
    if signed_in:
        client.force_login(shopper)
    demo_catalog_seed(products=60)
    small = page_costs(client)
    demo_catalog_seed(products=2_000)
    large = page_costs(client)
    assert small == large
    assert max(large.values()) <= 10, large
