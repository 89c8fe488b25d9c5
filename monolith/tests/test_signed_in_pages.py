"""Signed-in shoppers get the cached page every shopper gets, with their own parts filled in.

A catalog page is one cached body for everyone (catalog/page_cache.py). What is one shopper's
own is filled in per response: the account menu, the mini cart's count and the messages
(core/shopper_parts.py), the CSRF token and the CSP nonce (slots). The data behind them is
cached too and refreshed when it changes: the session (`cached_db`), the user
(accounts/backends.py), the cart's count (cart/selectors.py). These tests drive the pages over
HTTP with Django's test client, checking CSRF as a browser's posts are checked, on SQLite and
PostgreSQL, with each cache the platform runs on (the `page_cache` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from monolith.accounts.models import User
from monolith.cart.selectors import CartOwner
from monolith.cart.services import cart_add_product
from monolith.core.shopper_parts import CSP_NONCE_SLOT

from .factories import PASSWORD, make_cart, make_product, make_user
from .shopper_pages import (
    SCRIPT_NONCE,
    form_token,
    messages_shown,
    mini_cart_count,
    pages_showing,
    signed_in_name,
)
from .test_storefront_pages import ADDRESS_FORM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]


def post(browser: Client, url: str, page: bytes, data: dict[str, str] | None = None) -> Any:
    """Post as a form of `page` does: with the CSRF token that page carries."""
    return browser.post(url, {**(data or {}), "csrfmiddlewaretoken": form_token(page)})


def signed_in(user: User) -> Client:
    """A browser of this shopper's, signed in through the login form."""
    browser = Client(enforce_csrf_checks=True)
    login = reverse("accounts:login")
    signing_in = post(
        browser,
        login,
        browser.get(login).content,
        {"username": user.username, "password": PASSWORD},
    )
    assert signing_in.status_code == 302
    return browser


def shown(page: bytes) -> tuple[str | None, int]:
    """Who the header says is signed in, and the mini cart's count."""
    return signed_in_name(page), mini_cart_count(page)


def test_two_signed_in_shoppers_interleaved_never_see_each_others_count_name_or_token(
    lamp, shopper
):
    bob = make_user("bob")
    mug = make_product(category=lamp.category, name="Tea mug", stock=50)
    make_cart((lamp, 2), user=shopper)
    make_cart((lamp, 5), user=bob)
    alice_browser, bob_browser = signed_in(shopper), signed_in(bob)
    guest = Client(enforce_csrf_checks=True)
    add_mug = reverse("cart:add", args=[mug.pk])
    urls = [*pages_showing(lamp).values(), reverse("cart:detail")]
    alice_count = 2
    # The first round renders and caches each page, the second serves it from the cache.
    for _ in range(2):
        for url in urls:
            alice_page = alice_browser.get(url).content
            bob_page = bob_browser.get(url).content
            guest_page = guest.get(url).content
            assert shown(alice_page) == ("alice", alice_count), url
            assert shown(bob_page) == ("bob", 5), url
            assert shown(guest_page) == (None, 0), url
            # Each page's token is its reader's own: it posts for them and for no one else.
            assert post(bob_browser, add_mug, alice_page).status_code == 403, url
            assert post(alice_browser, add_mug, bob_page).status_code == 403, url
            assert post(guest, add_mug, alice_page).status_code == 403, url
            assert post(alice_browser, add_mug, alice_page, {"next": url}).status_code == 302
            alice_count += 1
    assert shown(bob_browser.get(urls[0]).content) == ("bob", 5)


def test_a_cart_change_shows_on_the_very_next_page(lamp, shopper):
    browser = signed_in(shopper)
    product_page, listing = pages_showing(lamp)["product"], pages_showing(lamp)["catalog"]
    page = browser.get(product_page).content
    assert mini_cart_count(page) == 0
    # With htmx: the fragment and the cart-updated event, then the header asks for its count.
    added = browser.post(
        reverse("cart:add", args=[lamp.pk]),
        {"quantity": "3", "csrfmiddlewaretoken": form_token(page)},
        HTTP_HX_REQUEST="true",
    )
    assert added.status_code == 200
    assert "cart-updated" in added["HX-Trigger"]
    assert mini_cart_count(browser.get(reverse("cart:mini")).content) == 3
    assert mini_cart_count(browser.get(product_page).content) == 3
    assert mini_cart_count(browser.get(listing).content) == 3
    changed = post(browser, reverse("cart:update", args=[lamp.pk]), page, {"quantity": "5"})
    assert changed.status_code == 302
    assert mini_cart_count(browser.get(product_page).content) == 5
    assert post(browser, reverse("cart:remove", args=[lamp.pk]), page).status_code == 302
    assert mini_cart_count(browser.get(listing).content) == 0
    post(browser, reverse("cart:add", args=[lamp.pk]), page, {"quantity": "2"})
    assert mini_cart_count(browser.get(product_page).content) == 2
    checkout = reverse("orders:checkout")
    assert post(browser, checkout, browser.get(checkout).content, ADDRESS_FORM).status_code == 302
    assert mini_cart_count(browser.get(product_page).content) == 0


def test_a_count_read_before_a_cart_change_commits_cannot_outlive_it(
    lamp, shopper, django_capture_on_commit_callbacks
):
    """Another request that counted the cart just before a change committed, and stores its
    count just after, loses to the count stored once the change committed."""
    cart = make_cart((lamp, 1), user=shopper)
    browser = signed_in(shopper)
    product_page = pages_showing(lamp)["product"]
    assert mini_cart_count(browser.get(product_page).content) == 1
    with django_capture_on_commit_callbacks(execute=True):
        cart_add_product(cart=cart, product=lamp, quantity=2)
        # What `get_or_set` stores for a request that read the lines before the commit.
        cache.add(CartOwner.of(cart).count_key(), 1)
    assert mini_cart_count(browser.get(product_page).content) == 3


def test_signing_out_and_in_switches_name_count_and_token_at_once(lamp, shopper):
    bob = make_user("bob")
    make_cart((lamp, 2), user=shopper)
    make_cart((lamp, 5), user=bob)
    browser = signed_in(shopper)
    product_page = pages_showing(lamp)["product"]
    add = reverse("cart:add", args=[lamp.pk])
    alice_page = browser.get(product_page).content
    assert shown(alice_page) == ("alice", 2)

    assert post(browser, reverse("accounts:logout"), alice_page).status_code == 302
    guest_page = browser.get(product_page).content
    assert shown(guest_page) == (None, 0)
    assert post(browser, add, alice_page).status_code == 403

    login = reverse("accounts:login")
    credentials = {"username": "bob", "password": PASSWORD}
    assert post(browser, login, browser.get(login).content, credentials).status_code == 302
    bob_page = browser.get(product_page).content
    assert shown(bob_page) == ("bob", 5)
    assert post(browser, add, guest_page).status_code == 403
    assert post(browser, add, bob_page, {"next": product_page}).status_code == 302
    assert shown(browser.get(product_page).content) == ("bob", 6)


def test_a_price_or_stock_change_shows_on_the_next_request_for_every_shopper(lamp, shopper):
    browsers = {"alice": signed_in(shopper), "bob": signed_in(make_user("bob")), "guest": Client()}
    urls = pages_showing(lamp)
    for browser in browsers.values():
        for url in urls.values():
            assert "€30.00" in browser.get(url).content.decode()
    lamp.price = "27.40"
    lamp.stock = 3
    lamp.save()
    for name, browser in browsers.items():
        for page_name, url in urls.items():
            body = browser.get(url).content.decode()
            assert "€27.40" in body, (name, page_name)
            assert "€30.00" not in body, (name, page_name)
            assert "Only 3 left" in body, (name, page_name)


def test_a_withdrawn_product_leaves_the_mini_cart_count_on_the_next_page(lamp, shopper):
    mug = make_product(category=lamp.category, name="Tea mug")
    make_cart((lamp, 2), (mug, 1), user=shopper)
    browser = signed_in(shopper)
    mug_page = pages_showing(mug)["product"]
    assert mini_cart_count(browser.get(mug_page).content) == 3
    lamp.is_active = False
    lamp.save()
    assert mini_cart_count(browser.get(mug_page).content) == 1


@pytest.mark.parametrize("page", ["catalog", "product"])
@pytest.mark.parametrize("who", ["signed in", "guest with a cart"])
def test_a_page_served_from_the_cache_makes_no_query(
    lamp, shopper, page, who, django_assert_num_queries
):
    url = pages_showing(lamp)[page]
    expected: tuple[str | None, int]
    if who == "signed in":
        make_cart((lamp, 3), user=shopper)
        browser, expected = signed_in(shopper), ("alice", 3)
    else:
        browser, expected = Client(), (None, 3)
        browser.post(reverse("cart:add", args=[lamp.pk]), {"quantity": "3"})
    # The first request renders the page and caches it, the user and the cart's count.
    assert shown(browser.get(url).content) == expected
    with django_assert_num_queries(0):
        body = browser.get(url).content
    assert shown(body) == expected


def test_every_response_carries_its_own_nonce_named_in_its_policy(lamp, shopper):
    product_page = pages_showing(lamp)["product"]
    nonces = []
    for browser in (Client(), signed_in(shopper)):
        # The second request is served from the cache the first filled.
        for _ in range(2):
            response = browser.get(product_page)
            assert CSP_NONCE_SLOT.encode() not in response.content
            (nonce,) = set(SCRIPT_NONCE.findall(response.content))
            assert f"'nonce-{nonce.decode()}'" in response["Content-Security-Policy"]
            nonces.append(nonce)
    assert len(set(nonces)) == len(nonces)


def test_a_new_username_shows_on_the_next_page(lamp, shopper):
    browser = signed_in(shopper)
    product_page = pages_showing(lamp)["product"]
    assert signed_in_name(browser.get(product_page).content) == "alice"
    shopper.username = "alice-in-the-shop"
    shopper.save()
    assert signed_in_name(browser.get(product_page).content) == "alice-in-the-shop"


@pytest.mark.parametrize("change", ["password changed", "account deactivated"])
def test_an_account_change_signs_the_shoppers_browsers_out_on_their_next_page(
    lamp, shopper, change
):
    browser = signed_in(shopper)
    product_page = pages_showing(lamp)["product"]
    assert signed_in_name(browser.get(product_page).content) == "alice"
    if change == "password changed":
        shopper.set_password("another-long-passphrase")
    else:
        shopper.is_active = False
    shopper.save()
    assert shown(browser.get(product_page).content) == (None, 0)


def test_a_message_shows_once_on_the_next_cached_page_and_only_to_its_shopper(lamp, shopper):
    alice_browser, bob_browser = signed_in(shopper), signed_in(make_user("bob"))
    product_page = pages_showing(lamp)["product"]
    alice_page = alice_browser.get(product_page).content
    bob_browser.get(product_page)
    add = reverse("cart:add", args=[lamp.pk])
    assert post(alice_browser, add, alice_page, {"next": product_page}).status_code == 302
    assert messages_shown(alice_browser.get(product_page).content) == (
        "Added 1 × Brass lamp to your cart."
    )
    assert messages_shown(bob_browser.get(product_page).content) == ""
    assert messages_shown(alice_browser.get(product_page).content) == ""
