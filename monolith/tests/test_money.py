from decimal import Decimal

from monolith.core.money import to_cents, totals_for

RULES = {
    "shipping_fee": Decimal("4.90"),
    "free_shipping_from": Decimal("50.00"),
    "tax_rate": Decimal("0.20"),
}


def test_small_order_pays_shipping_and_tax_on_both():
    totals = totals_for([Decimal("10.00"), Decimal("5.55")], **RULES)
    assert totals.subtotal == Decimal("15.55")
    assert totals.shipping == Decimal("4.90")
    assert totals.tax == Decimal("4.09")  # 20.45 × 0.20 = 4.09
    assert totals.total == Decimal("24.54")


def test_shipping_is_free_from_the_threshold():
    assert totals_for([Decimal("50.00")], **RULES).shipping == Decimal("0.00")
    assert totals_for([Decimal("49.99")], **RULES).shipping == Decimal("4.90")


def test_tax_rounds_half_up_to_the_cent():
    # 0.125 rounds up to 0.13, where banker's rounding would give 0.12.
    assert to_cents(Decimal("0.125")) == Decimal("0.13")
    totals = totals_for([Decimal("50.01")], **{**RULES, "tax_rate": Decimal("0.075")})
    assert totals.tax == Decimal("3.75")  # 3.75075


def test_totals_always_add_up():
    for cents in range(1, 10_000, 37):
        totals = totals_for([Decimal(cents) / 100, Decimal("0.33")], **RULES)
        assert totals.total == totals.subtotal + totals.shipping + totals.tax


def test_an_empty_cart_costs_nothing():
    totals = totals_for([], **RULES)
    assert (totals.subtotal, totals.shipping, totals.tax, totals.total) == (0, 0, 0, 0)
