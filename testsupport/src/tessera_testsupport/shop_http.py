"""A shopper's steps over plain HTTP, as a browser without JavaScript takes them.

Shared by the suites that drive a running shop from outside: the journey in each placement
(monolith/tests) and `make run`'s smoke test (infra/tests). Forms carry their CSRF token,
clients keep their cookies, and the sandbox's pay page is posted as its form would be.
"""

from __future__ import annotations

import html
import re

import httpx

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
GUEST_CHECKOUT = {
    "email": "guest@example.com",
    "name": "Grace Guest",
    "line1": "1 Canal Street",
    "postal_code": "1011",
    "city": "Amsterdam",
    "country": "NL",
}


def csrf_token(client: httpx.Client, url: str) -> str:
    """GET the page with the form and return its CSRF token (the cookie comes with it)."""
    page = _expect(client.get(url), 200)
    found = CSRF_TOKEN.search(page.text)
    if found is None:
        raise AssertionError(f"no CSRF token on {url}")
    return found.group(1)


def guest_checks_out(shopper: httpx.Client) -> str:
    """Check the cart out as a guest; return the pay page the shop redirects to."""
    checkout = "/checkout/"
    placed = shopper.post(
        checkout, data={"csrfmiddlewaretoken": csrf_token(shopper, checkout), **GUEST_CHECKOUT}
    )
    return _expect(placed, 302).headers["Location"]


def sandbox_pays(pay_page_url: str, *, outcome: str = "succeeded") -> str:
    """Press Pay (or Decline) on the sandbox's pay page; return where it sends the shopper."""
    with httpx.Client(timeout=10) as provider:
        pay_page = _expect(provider.get(pay_page_url), 200)
        fields = {name: html.unescape(value) for name, value in HIDDEN_INPUT.findall(pay_page.text)}
        action = pay_page_url.split("?", 1)[0]
        paid = provider.post(action, data={**fields, "outcome": outcome})
    return _expect(paid, 303).headers["Location"]


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    """The response, or a failure that shows what came back instead."""
    if response.status_code != status:
        raise AssertionError(
            f"{response.request.method} {response.request.url}: {response.status_code}, "
            f"not {status}\n{response.text[-2000:]}"
        )
    return response
