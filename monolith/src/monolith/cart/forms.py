"""Forms that validate what shoppers post to the cart; the quantity rules live in services."""

from __future__ import annotations

from django import forms

from .services import MAX_QUANTITY_PER_LINE, QuantityError

QUANTITY_ERRORS = {
    "invalid": "Enter a whole number.",
    "required": "Enter a quantity.",
    "min_value": f"Choose a quantity between 1 and {MAX_QUANTITY_PER_LINE}.",
    "max_value": f"Choose a quantity between 1 and {MAX_QUANTITY_PER_LINE}.",
}


class QuantityForm(forms.Form):
    quantity: forms.IntegerField

    def valid_quantity(self) -> int:
        """The posted quantity, or QuantityError carrying the first validation message."""
        if not self.is_valid():
            message = next(iter(self.errors.get("quantity", [])), "Enter a quantity.")
            raise QuantityError(str(message))
        return int(self.cleaned_data["quantity"])


class AddToCartForm(QuantityForm):
    """Units to add; a bare "Add to cart" button posts no quantity and means one."""

    quantity = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_QUANTITY_PER_LINE, error_messages=QUANTITY_ERRORS
    )

    def clean_quantity(self) -> int:
        quantity: int | None = self.cleaned_data.get("quantity")
        return 1 if quantity is None else quantity


class SetQuantityForm(QuantityForm):
    """The new quantity of a line; zero removes it."""

    quantity = forms.IntegerField(
        min_value=0,
        max_value=MAX_QUANTITY_PER_LINE,
        error_messages={
            **QUANTITY_ERRORS,
            "min_value": f"Choose a quantity up to {MAX_QUANTITY_PER_LINE}, or 0 to remove it.",
        },
    )
