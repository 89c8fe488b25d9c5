"""Twenty shoppers race for the last five units on the real PostgreSQL server."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from monolith.catalog.models import Product
from monolith.orders.models import Order
from monolith.orders.services import OutOfStock, order_place

from .factories import ADDRESS, make_cart, make_category, make_product

SHOPPERS = 20
UNITS = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_racing_checkouts_sell_exactly_the_last_five_units():
    product = make_product(category=make_category(), name="Last few", stock=UNITS)
    carts = [make_cart((product, 1)) for _ in range(SHOPPERS)]
    start = threading.Barrier(SHOPPERS)

    def checkout(cart_index: int) -> str:
        try:
            start.wait()  # release every thread at once for a real race
            order_place(cart=carts[cart_index], email="race@example.com", shipping=ADDRESS)
            return "ordered"
        except OutOfStock:
            return "sold out"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=SHOPPERS) as pool:
        outcomes = list(pool.map(checkout, range(SHOPPERS)))

    assert outcomes.count("ordered") == UNITS
    assert outcomes.count("sold out") == SHOPPERS - UNITS
    assert Product.objects.get(pk=product.pk).stock == 0
    assert Order.objects.count() == UNITS
