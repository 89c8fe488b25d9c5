"""Money arithmetic for the shop: Decimal amounts rounded half-up to cents, one currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def minor_units(amount: Decimal) -> int:
    """An amount in whole cents, as the contract's *_minor fields carry it."""
    return int((amount * 100).to_integral_value())


def to_cents(amount: Decimal) -> Decimal:
    """Round an amount to whole cents, half-up, as invoices and receipts expect."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Totals:
    """What an order costs: frozen into the order at checkout."""

    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal


def totals_for(
    line_totals: list[Decimal],
    *,
    shipping_fee: Decimal,
    free_shipping_from: Decimal,
    tax_rate: Decimal,
) -> Totals:
    """Sum line totals, add shipping unless the subtotal earns free shipping, then add tax.

    Tax is charged on goods and shipping together, rounded once on the sum so that the
    invoice's figures add up to the cent.
    """
    subtotal = to_cents(sum(line_totals, Decimal("0")))
    shipping = Decimal("0.00") if subtotal >= free_shipping_from or subtotal == 0 else shipping_fee
    shipping = to_cents(shipping)
    tax = to_cents((subtotal + shipping) * tax_rate)
    return Totals(subtotal=subtotal, shipping=shipping, tax=tax, total=subtotal + shipping + tax)
