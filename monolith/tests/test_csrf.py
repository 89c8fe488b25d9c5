"""CSRF is enforced on every form: each post form carries the token, and posts without it fail."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from .factories import make_order

pytestmark = pytest.mark.django_db

POST_FORM = re.compile(rb"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def post_forms(client, url: str) -> list[bytes]:
    response = client.get(url)
    assert response.status_code == 200, url
    return POST_FORM.findall(response.content)


def test_every_post_form_on_every_page_carries_the_csrf_token(client, product, shopper):
    client.post(reverse("cart:add", args=[product.pk]))
    guest_pages = [
        reverse("catalog:product_list"),
        reverse("catalog:product_detail", args=[product.slug]),
        reverse("cart:detail"),
        reverse("orders:checkout"),
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("accounts:password_reset"),
    ]
    forms = [(url, form) for url in guest_pages for form in post_forms(client, url)]
    client.force_login(shopper)
    order = make_order((product, 1), user=shopper)
    signed_in_pages = [reverse("orders:detail", args=[order.public_id]), reverse("orders:mine")]
    forms += [(url, form) for url in signed_in_pages for form in post_forms(client, url)]

    assert len(forms) >= 10
    for url, form in forms:
        assert b'name="csrfmiddlewaretoken"' in form, f"a form on {url} has no CSRF token"


def test_posts_without_the_token_are_refused(csrf_client, product, shopper):
    targets = [
        reverse("cart:add", args=[product.pk]),
        reverse("cart:update", args=[product.pk]),
        reverse("cart:remove", args=[product.pk]),
        reverse("orders:checkout"),
        reverse("accounts:login"),
        reverse("accounts:logout"),
        reverse("accounts:signup"),
        reverse("accounts:password_reset"),
        reverse("admin:login"),
    ]
    for url in targets:
        assert csrf_client.post(url, {"quantity": "1"}).status_code == 403, url
    csrf_client.force_login(shopper)
    assert csrf_client.post(reverse("accounts:logout")).status_code == 403


def test_htmx_posts_pass_with_the_token_in_the_header(csrf_client, product):
    page = csrf_client.get(reverse("catalog:product_list"))
    token = page.cookies["csrftoken"].value
    response = csrf_client.post(
        reverse("cart:add", args=[product.pk]), HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200
