"""Every HTML page carries a Content-Security-Policy and the usual security headers: the
shop's pages, the sign-in forms, the error pages and the admin (there was no policy at all)."""

from __future__ import annotations

from typing import Any

import pytest
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from .factories import make_category, make_product

pytestmark = pytest.mark.django_db


def _pages(client: Client, staff_user) -> dict[str, Any]:
    product = make_product(category=make_category("Kitchen"))
    anonymous = {
        "catalog": client.get(reverse("catalog:product_list")),
        "product": client.get(reverse("catalog:product_detail", args=[product.slug])),
        "cart": client.get(reverse("cart:detail")),
        "login": client.get(reverse("accounts:login")),
        "signup": client.get(reverse("accounts:signup")),
        "password reset": client.get(reverse("accounts:password_reset")),
        "not found": client.get("/no-such-page/"),
        "admin login": client.get("/admin/login/"),
    }
    client.force_login(staff_user)
    return {
        **anonymous,
        "my orders": client.get(reverse("orders:mine")),
        "admin index": client.get("/admin/"),
        "admin products": client.get("/admin/catalog/product/"),
        "admin product": client.get(f"/admin/catalog/product/{product.pk}/change/"),
    }


def test_every_html_page_carries_a_content_security_policy(client, staff_user):
    for name, response in _pages(client, staff_user).items():
        assert response["Content-Type"].startswith("text/html"), name
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'", name
        assert directives["script-src"].startswith("'self'"), name
        assert "unsafe-inline" not in directives["script-src"], name
        assert directives["object-src"] == "'none'", name
        assert directives["frame-ancestors"] == "'none'", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name
        assert response["X-Frame-Options"] == "DENY", name


def test_a_page_that_uses_the_nonce_names_it_in_the_policy(rf):
    def page(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}">1</script>')

    request = rf.get("/")
    response: Any = CSPMiddleware(page)(request)

    assert f"'nonce-{request.csp_nonce}'" in response["Content-Security-Policy"]
