"""Reading a shopper page as a browser would: who it says is signed in, the mini cart's count,
the messages, and the tokens its forms carry."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from monolith.catalog.models import Product

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
SIGNED_IN_AS = re.compile(rb'Log out<span class="visually-hidden"> ([^<]+)</span>')
SCRIPT_NONCE = re.compile(rb'<script [^>]*nonce="([^"]+)"')


def pages_showing(product: Product) -> dict[str, str]:
    """Every shopper page that shows this product: listing, its category, a search, its page."""
    listing = reverse("catalog:product_list")
    return {
        "catalog": listing,
        "category": f"{listing}?category={product.category.slug}",
        "search": f"{listing}?q={product.name.split()[0]}",
        "product": reverse("catalog:product_detail", args=[product.slug]),
    }


def contents(client: Client, urls: dict[str, str]) -> dict[str, bytes]:
    result = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, url)
        result[name] = response.content
    return result


def messages_shown(page: bytes) -> str:
    """The text of the page's messages region, tags (and part markers) stripped."""
    region = page.split(b'id="messages"', 1)[1].split(b"</div>", 1)[0]
    return re.sub(r"<[^>]+>", "", region.split(b">", 1)[1].decode()).strip()


def mini_cart_count(page: bytes) -> int:
    found = re.search(rb'class="mini-cart__count[^"]*">(\d+)<', page)
    assert found, "no mini-cart in the page"
    return int(found.group(1))


def signed_in_name(page: bytes) -> str | None:
    """The name the header's account menu shows, None when it offers to log in."""
    found = SIGNED_IN_AS.search(page)
    if found is None:
        assert b">Log in</a>" in page, "the header shows neither a shopper nor Log in"
        return None
    return found.group(1).decode()


def form_token(page: bytes) -> str:
    """The CSRF token the page's forms post (the same in every form of one response)."""
    tokens = set(CSRF_INPUT.findall(page))
    assert len(tokens) == 1, tokens
    return tokens.pop().decode()
