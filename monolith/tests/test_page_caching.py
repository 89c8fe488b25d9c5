"""The cached storefront stays right: changes show at once, and no shopper sees another's page.

Catalog pages are cached whole per catalog version and URL (catalog/page_cache.py), each
product card under the product's version, and the listing's count per catalog version; these
tests warm every page that shows a product, change the product, and read the pages again over
HTTP, on SQLite and on PostgreSQL alike, with each cache the platform runs on (the
`page_cache` fixture). Signed-in shoppers: test_signed_in_pages.py.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from monolith.catalog.models import ProductImage
from monolith.core.csrf_token_slot import CSRF_TOKEN_SLOT
from monolith.demo.catalog_generator import placeholder_png
from monolith.orders.services import order_cancel

from .factories import PASSWORD, make_order, make_product
from .shopper_pages import (
    CSRF_INPUT,
    contents,
    messages_shown,
    mini_cart_count,
    pages_showing,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]


def test_a_price_change_shows_on_the_next_request_to_every_page(client, lamp):
    assert all(
        b"\xe2\x82\xac30.00" in body for body in contents(client, pages_showing(lamp)).values()
    )
    lamp.price = "27.40"
    lamp.save()
    after = contents(client, pages_showing(lamp))
    assert all(b"\xe2\x82\xac27.40" in body for body in after.values()), after.keys()
    assert not any(b"\xe2\x82\xac30.00" in body for body in after.values())


def test_a_name_change_shows_on_the_next_request_to_every_page(client, lamp):
    contents(client, pages_showing(lamp))
    lamp.name = "Copper lamp"
    lamp.save()
    after = contents(client, pages_showing(lamp))
    assert all(b"Copper lamp" in body for body in after.values())
    assert not any(b"Brass lamp" in body for body in after.values())


def test_a_stock_change_shows_on_the_next_request_to_every_page(client, lamp):
    assert all(b"In stock" in body for body in contents(client, pages_showing(lamp)).values())
    lamp.stock = 3
    lamp.save()
    after = contents(client, pages_showing(lamp))
    assert all(b"Only 3 left" in body for body in after.values())


def test_stock_reserved_and_released_by_orders_shows_at_once(client, lamp):
    """Checkout takes stock with a bulk UPDATE, which must move the cached version too."""
    contents(client, pages_showing(lamp))
    order = make_order((lamp, 6))
    assert all(b"Only 4 left" in body for body in contents(client, pages_showing(lamp)).values())
    order_cancel(order=order, cause="test")
    assert all(b"In stock" in body for body in contents(client, pages_showing(lamp)).values())


def test_an_image_change_shows_on_the_next_request_to_every_page(client, lamp, media_root):
    before = contents(client, pages_showing(lamp))
    assert not any(b"Lamp in the window" in body for body in before.values())
    png = placeholder_png(colour=(200, 160, 90), label="lamp", size=32)
    image = ProductImage.objects.create(
        product=lamp, image=ContentFile(png, name="lamp.png"), alt_text="Lamp in the window"
    )
    assert all(
        b"Lamp in the window" in body for body in contents(client, pages_showing(lamp)).values()
    )
    image.alt_text = "Lamp on a desk"
    image.save()
    assert all(b"Lamp on a desk" in body for body in contents(client, pages_showing(lamp)).values())
    image.delete()
    after = contents(client, pages_showing(lamp))
    assert not any(b"Lamp on a desk" in body for body in after.values())


def test_the_listing_count_follows_products_added_and_withdrawn(client, lamp):
    listing = reverse("catalog:product_list")
    assert b"1 product" in client.get(listing).content
    second = make_product(category=lamp.category, name="Floor lamp")
    assert b"2 products" in client.get(listing).content
    second.is_active = False
    second.save()
    body = client.get(listing).content
    assert b"1 product" in body
    assert b"Floor lamp" not in body


def test_two_shoppers_interleaved_never_see_each_others_cart_messages_token_or_login(lamp, shopper):
    alice, guest = Client(), Client()
    assert (
        alice.post(
            reverse("accounts:login"), {"username": "alice", "password": PASSWORD}
        ).status_code
        == 302
    )
    urls = pages_showing(lamp)
    for name, url in urls.items():
        # Alice adds to her cart without JavaScript: a redirect back, then a message.
        added = alice.post(reverse("cart:add", args=[lamp.pk]), {"quantity": "2", "next": url})
        assert added.status_code == 302
        alice_page = alice.get(url).content
        guest_page = guest.get(url).content
        assert b"Log out" in alice_page, name
        assert b"Log out" not in guest_page, name
        assert b"alice" in alice_page, name
        assert b"alice" not in guest_page, name
        assert "to your cart." in messages_shown(alice_page), name
        assert messages_shown(guest_page) == "", name
        alice_tokens = set(CSRF_INPUT.findall(alice_page))
        guest_tokens = set(CSRF_INPUT.findall(guest_page))
        assert alice_tokens, name
        assert guest_tokens, name
        assert not alice_tokens & guest_tokens, name
        assert mini_cart_count(guest_page) == 0, name
    # Two units per page visit, four pages: the header counted every one of them.
    assert mini_cart_count(alice.get(urls["catalog"]).content) == 2 * len(urls)


def test_the_mini_cart_counts_what_the_shopper_added_on_the_next_page(client, lamp):
    listing = reverse("catalog:product_list")
    assert mini_cart_count(client.get(listing).content) == 0
    client.post(reverse("cart:add", args=[lamp.pk]), {"quantity": "3"})
    assert mini_cart_count(client.get(listing).content) == 3
    assert mini_cart_count(client.get(pages_showing(lamp)["product"]).content) == 3
    assert mini_cart_count(Client().get(listing).content) == 0


def test_shopper_pages_are_never_for_shared_caches(client, lamp):
    for url in pages_showing(lamp).values():
        response = client.get(url)
        assert "private" in response["Cache-Control"], url
        assert "Cookie" in response["Vary"], url


def test_a_price_change_reorders_the_listing_sorted_by_price_on_the_next_request(client, lamp):
    cheaper = make_product(category=lamp.category, name="Desk lamp", price="20.00")
    by_price = reverse("catalog:product_list") + "?sort=price"

    def order() -> list[str]:
        body = client.get(by_price).content.decode()
        return sorted(("Brass lamp", "Desk lamp"), key=body.index)

    assert order() == ["Desk lamp", "Brass lamp"]
    cheaper.price = "45.00"
    cheaper.save()
    assert order() == ["Brass lamp", "Desk lamp"]


def test_the_token_in_a_cached_page_is_the_reading_shoppers_own_and_works(lamp):
    """A page rendered for one shopper and served from the cache to another carries a token
    of the second shopper's secret: a form post with it passes CSRF's check."""
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    product_page = pages_showing(lamp)["product"]
    first.get(product_page)  # renders and caches the page
    page = second.get(product_page)
    assert CSRF_TOKEN_SLOT.encode() not in page.content
    token = CSRF_INPUT.search(page.content)
    assert token, "no CSRF token in the form"
    added = second.post(
        reverse("cart:add", args=[lamp.pk]),
        {"quantity": "1", "next": product_page, "csrfmiddlewaretoken": token.group(1).decode()},
    )
    assert added.status_code == 302
    assert mini_cart_count(second.get(product_page).content) == 1
    refused = first.post(reverse("cart:add", args=[lamp.pk]), {"quantity": "1"})
    assert refused.status_code == 403


def test_a_query_parameter_of_one_shopper_never_reaches_another_shoppers_page(client, lamp):
    make_product(category=lamp.category, name="Floor lamp", price="60.00")
    listing = reverse("catalog:product_list")
    with_junk = client.get(f"{listing}?sort=price&utm_campaign=spoofed-by-a-link")
    assert with_junk.status_code == 200
    assert b"spoofed-by-a-link" not in with_junk.content
    assert b"spoofed-by-a-link" not in Client().get(f"{listing}?sort=price").content
