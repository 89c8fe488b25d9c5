"""`{{ amount|money:currency }}`: one way to show prices, e.g. "€12.50" or "12.50 CHF"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

from monolith.core.money import to_cents

register = template.Library()

# Currencies whose symbol shoppers recognise go in front; any other shows its ISO code after.
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def format_money(amount: Decimal, currency: str) -> str:
    """Round to cents, group thousands, and place the symbol or code."""
    cents = to_cents(amount)
    digits = f"{abs(cents):,.2f}"
    sign = "-" if cents < 0 else ""
    code = currency.upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol is not None:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}"


@register.filter(name="money")
def money(value: Decimal | int | str | None, currency: str = "") -> str:
    """Format an amount; without a currency the shop's configured currency is assumed."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return format_money(amount, currency or settings.TESSERA_CURRENCY)
