"""The storefront through HTTP: full pages for browsers, partials for htmx, forms without JS."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from monolith.cart.models import Cart
from monolith.orders.models import Order
from monolith.orders.services import order_cancel

from .factories import PASSWORD, make_order, make_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ADDRESS_FORM = {
    "email": "guest@example.com",
    "name": "Guest Shopper",
    "line1": "1 Canal Street",
    "line2": "",
    "postal_code": "1011",
    "city": "Amsterdam",
    "country": "NL",
}


def is_full_page(response) -> bool:
    return b"<html" in response.content


def test_catalog_lists_searches_and_pages(client, category):
    make_product(category=category, name="Teapot")
    make_product(category=category, name="Lantern")
    response = client.get(reverse("catalog:product_list"), {"q": "teapot"})
    assert response.status_code == 200
    assert is_full_page(response)
    assert b"Teapot" in response.content
    assert b"Lantern" not in response.content
    assert client.get(reverse("catalog:product_list"), {"page": "99"}).status_code == 404
    assert client.get(reverse("catalog:product_list"), {"page": "x"}).status_code == 404


def test_product_page_hides_products_withdrawn_from_sale(client, category):
    retired = make_product(category=category, name="Retired", is_active=False)
    url = reverse("catalog:product_detail", args=[retired.slug])
    assert client.get(url).status_code == 404


def test_htmx_add_to_cart_returns_the_partial_and_the_cart_updated_event(client, product):
    response = client.post(reverse("cart:add", args=[product.pk]), {"quantity": "2"}, **HTMX)
    assert response.status_code == 200
    assert not is_full_page(response)
    assert response["HX-Trigger"] == '{"cart-updated": {}}'
    mini = client.get(reverse("cart:mini"), **HTMX)
    assert b"2<span" in mini.content
    assert not is_full_page(mini)


def test_plain_add_to_cart_redirects_back_without_javascript(client, product):
    back = reverse("catalog:product_detail", args=[product.slug])
    response = client.post(reverse("cart:add", args=[product.pk]), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    page = client.get(back)
    assert b"Added 1 \xc3\x97 Mug to your cart." in page.content


def test_an_offsite_next_is_ignored(client, product):
    response = client.post(
        reverse("cart:add", args=[product.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("cart:detail")


def test_asking_for_more_than_the_stock_is_refused_with_422_for_htmx(client, product):
    response = client.post(reverse("cart:add", args=[product.pk]), {"quantity": "11"}, **HTMX)
    assert response.status_code == 422
    assert b"Only 10 of Mug left in stock." in response.content
    assert "HX-Trigger" not in response


def test_cart_quantity_change_and_removal_with_htmx(client, product):
    client.post(reverse("cart:add", args=[product.pk]))
    response = client.post(reverse("cart:update", args=[product.pk]), {"quantity": "3"}, **HTMX)
    assert response.status_code == 200
    assert not is_full_page(response)
    assert Cart.objects.get().lines.get().quantity == 3
    response = client.post(reverse("cart:remove", args=[product.pk]), **HTMX)
    assert response["HX-Trigger"] == '{"cart-updated": {}}'
    assert not Cart.objects.get().lines.exists()


def test_cart_actions_accept_only_posts(client, product):
    assert client.get(reverse("cart:add", args=[product.pk])).status_code == 405
    assert client.post(reverse("cart:add", args=[987654])).status_code == 404


def test_guest_checkout_sends_the_shopper_to_pay_and_back_to_an_order_only_they_see(
    client, product, settings
):
    settings.PAYMENT_PROVIDER_URL = "http://127.0.0.1:8003"
    client.post(reverse("cart:add", args=[product.pk]), {"quantity": "2"})
    response = client.post(reverse("orders:checkout"), ADDRESS_FORM)
    order = Order.objects.get()
    assert response.status_code == 302
    pay_page = urlsplit(response["Location"])
    assert f"{pay_page.scheme}://{pay_page.netloc}{pay_page.path}" == "http://127.0.0.1:8003/pay"
    query = parse_qs(pay_page.query)
    order_page = reverse("orders:detail", args=[order.public_id])
    assert query == {
        "reference": [order.payment.reference],
        "amount": [f"{order.total:.2f}"],
        "currency": [order.currency],
        "order": [order.number],
        "return_url": [f"http://testserver{order_page}"],
    }
    page = client.get(order_page)
    assert b"Pending payment" in page.content
    assert order.number.encode() in page.content
    stranger = client.__class__()
    assert stranger.get(order_page).status_code == 404


def test_checkout_with_a_bad_address_shows_the_form_again(client, product):
    client.post(reverse("cart:add", args=[product.pk]))
    response = client.post(reverse("orders:checkout"), {**ADDRESS_FORM, "country": "XX"})
    assert response.status_code == 200
    assert not Order.objects.exists()


def test_the_order_status_partial_polls_until_the_order_is_final(client, product, shopper):
    order = make_order((product, 1), user=shopper)
    client.force_login(shopper)
    url = reverse("orders:status", args=[order.public_id])
    pending = client.get(url, **HTMX)
    assert not is_full_page(pending)
    assert b'hx-trigger="every 2s"' in pending.content
    order_cancel(order=order, cause="test")
    final = client.get(url, **HTMX)
    assert b"hx-trigger" not in final.content
    assert b"Cancelled" in final.content


def test_login_merges_the_session_cart_into_the_users_cart(client, category, shopper):
    mug = make_product(category=category, name="Mug")
    bowl = make_product(category=category, name="Bowl")
    client.force_login(shopper)
    client.post(reverse("cart:add", args=[mug.pk]))
    client.post(reverse("accounts:logout"))
    client.post(reverse("cart:add", args=[mug.pk]), {"quantity": "2"})
    client.post(reverse("cart:add", args=[bowl.pk]))
    response = client.post(
        reverse("accounts:login"), {"username": shopper.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    cart = Cart.objects.get(user=shopper)
    assert {line.product.name: line.quantity for line in cart.lines.all()} == {"Mug": 3, "Bowl": 1}
    assert Cart.objects.count() == 1


def test_my_orders_needs_a_login_and_lists_only_mine(client, product, shopper):
    mine = make_order((product, 1), user=shopper)
    theirs = make_order((product, 1))
    url = reverse("orders:mine")
    assert client.get(url).status_code == 302
    client.force_login(shopper)
    page = client.get(url)
    assert mine.number.encode() in page.content
    assert theirs.number.encode() not in page.content


def test_sign_up_logs_the_new_shopper_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": "a-long-new-passphrase",
            "password2": "a-long-new-passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("orders:mine")).status_code == 200


def test_password_reset_sends_a_link_that_sets_a_new_password(client, shopper, mailoutbox):
    client.post(reverse("accounts:password_reset"), {"email": shopper.email})
    assert len(mailoutbox) == 1
    link = next(word for word in mailoutbox[0].body.split() if "/reset/" in word)
    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert response.status_code == 302
    shopper.refresh_from_db()
    assert shopper.check_password("another-long-passphrase")
