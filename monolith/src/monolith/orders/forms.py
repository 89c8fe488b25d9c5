"""The checkout form: who to email and where to ship."""

from __future__ import annotations

from django import forms

from .countries import COUNTRY_NAMES
from .services import ShippingAddress

COUNTRY_CHOICES = [
    ("", "Choose a country"),
    *sorted(COUNTRY_NAMES.items(), key=lambda item: item[1]),
]


class CheckoutForm(forms.Form):
    email = forms.EmailField(
        help_text="We send the order confirmation here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    name = forms.CharField(
        label="Full name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    line1 = forms.CharField(
        label="Address",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(
        label="Apartment, suite, etc.",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.CharField(
        label="Postal code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        max_length=120, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    country = forms.ChoiceField(
        # Shoppers pick a name; the form accepts only ISO 3166-1 alpha-2 codes.
        choices=COUNTRY_CHOICES,
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )

    def shipping_address(self) -> ShippingAddress:
        """The validated address, in the shape `order_place` takes."""
        data = self.cleaned_data
        return ShippingAddress(
            name=data["name"],
            line1=data["line1"],
            line2=data["line2"],
            postal_code=data["postal_code"],
            city=data["city"],
            country=data["country"],
        )
