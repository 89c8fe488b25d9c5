"""The orders a webhook burst pays: bulk-inserted pending orders, each with its payment, as
Python for the monolith's settings (bench/burst.py seeds with it, and so does the fault suite,
infra/tests/test_faults.py)."""

from __future__ import annotations


def orders_seed_script(count: int, *, prefix: str = "B", with_lines: bool = False) -> str:
    """Python that bulk-inserts `count` pending orders of 10.00 EUR, numbered TS-<prefix>…,
    each with its payment, and prints their payment references, one a line (the sandbox's
    `burst --references`). Run with `python -c` or `django-admin shell --command`.

    ``with_lines`` gives each order a line, which its invoice needs: without one the invoice
    job is refused at once (the benchmark measures the inbox, not invoices)."""
    script = _SEED_SCRIPT.replace("COUNT", str(int(count))).replace("PREFIX", prefix)
    return script + (_LINES_SCRIPT if with_lines else "") + _PRINT_REFERENCES


_LINES_SCRIPT = r"""
OrderLine.objects.bulk_create(
    OrderLine(order=order, sku="BURST-1", name="Burst item", unit_price=Decimal("10.00"),
              quantity=1, line_total=Decimal("10.00"))
    for order in orders
)
"""
_PRINT_REFERENCES = r"""
print("\n".join(payment.reference for payment in payments))
"""


_SEED_SCRIPT = r"""
from decimal import Decimal
import django
django.setup()
from django.db import transaction
from monolith.orders.models import Order, OrderLine, Payment

with transaction.atomic():
    orders = Order.objects.bulk_create(
        Order(
            number=f"TS-PREFIX{number:07d}", email="burst@example.com", currency="EUR",
            subtotal=Decimal("10.00"), shipping=Decimal("0.00"), tax=Decimal("0.00"),
            total=Decimal("10.00"), shipping_name="Burst Shopper", shipping_line1="1 Dock",
            shipping_postal_code="1011", shipping_city="Amsterdam", shipping_country="NL",
        )
        for number in range(COUNT)
    )
    payments = Payment.objects.bulk_create(
        Payment(order=order, reference=f"pay_bench_{order.number}", amount=Decimal("10.00"),
                currency="EUR")
        for order in orders
    )
"""
