"""The storefront API through HTTP: catalog, carts, orders, auth, and problem+json errors."""

import uuid
from urllib.parse import quote

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from monolith.cart.models import Cart

from .factories import PASSWORD, make_category, make_order, make_product

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def catalog():
    kitchen, garden = make_category("Kitchen"), make_category("Garden")
    products = [
        make_product(category=kitchen, name=f"Mug {n:02d}", price=f"{10 + n}.00") for n in range(7)
    ]
    products.append(make_product(category=garden, name="Trowel", price="5.00"))
    make_product(category=garden, name="Retired", is_active=False)
    return {"kitchen": kitchen, "garden": garden, "products": products}


def test_categories_are_listed_in_display_order(api, catalog):
    response = api.get("/api/v1/categories")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["Garden", "Kitchen"]


def test_products_come_in_cursor_pages_without_gaps_or_repeats(api, catalog):
    seen, url = [], "/api/v1/products?page_size=3&sort=price"
    while url:
        page = api.get(url).json()
        seen += [product["sku"] for product in page["results"]]
        url = page["next"]
    expected = sorted(catalog["products"], key=lambda p: (p.price, p.id))
    assert seen == [product.sku for product in expected]


def test_products_filter_by_category_and_search(api, catalog):
    garden = api.get("/api/v1/products", {"category": catalog["garden"].slug}).json()
    assert [p["name"] for p in garden["results"]] == ["Trowel"]
    found = api.get("/api/v1/products", {"search": "trowel"}).json()
    assert [p["name"] for p in found["results"]] == ["Trowel"]


def test_product_detail_shows_price_as_an_exact_decimal_string(api, catalog):
    product = catalog["products"][0]
    body = api.get(f"/api/v1/products/{product.slug}").json()
    assert body["price"] == "10.00"
    assert body["currency"] == "EUR"
    assert body["stock"] == product.stock


def test_unknown_and_withdrawn_products_are_problem_404s(api, catalog):
    for slug in ["no-such-thing", "retired-9"]:
        response = api.get(f"/api/v1/products/{slug}")
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
        assert response.json()["type"] == "/problems/not-found"


def test_a_bad_sort_is_a_precise_400(api, catalog):
    response = api.get("/api/v1/products", {"sort": "sideways"})
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "Bad Request"
    assert problem["errors"][0]["pointer"] == "/sort"


def test_an_anonymous_cart_is_built_line_by_line(api, catalog):
    mug, trowel = catalog["products"][0], catalog["products"][-1]
    cart = api.post("/api/v1/carts").json()
    lines = f"/api/v1/carts/{cart['id']}/lines"
    api.post(lines, {"sku": mug.sku, "quantity": 2}, format="json")
    api.post(lines, {"sku": trowel.sku}, format="json")
    body = api.put(f"{lines}/{mug.sku}", {"quantity": 3}, format="json").json()
    assert {line["sku"]: line["quantity"] for line in body["lines"]} == {mug.sku: 3, trowel.sku: 1}
    assert body["totals"]["subtotal"] == "35.00"
    removed = api.delete(f"{lines}/{trowel.sku}")
    assert removed.status_code == 204
    assert removed.content == b""
    assert api.get(f"/api/v1/carts/{cart['id']}").json()["item_count"] == 3


def test_cart_rules_answer_422_and_unknown_skus_400(api, catalog):
    cart = api.post("/api/v1/carts").json()
    lines = f"/api/v1/carts/{cart['id']}/lines"
    too_many = api.post(lines, {"sku": catalog["products"][0].sku, "quantity": 50}, format="json")
    assert too_many.status_code == 422
    assert too_many.json()["detail"].startswith("Only 10 of")
    unknown = api.post(lines, {"sku": "NOPE"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["type"] == "/problems/validation-failed"
    assert unknown.json()["errors"] == [
        {"detail": "No product for sale has this SKU.", "pointer": "/sku"}
    ]
    malformed = api.generic("POST", lines, "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.json()["type"] == "/problems/malformed-request"


def test_someone_elses_cart_is_not_found(api, catalog, shopper):
    theirs = Cart.objects.create(user=shopper)
    assert api.get(f"/api/v1/carts/{theirs.public_id}").status_code == 404
    assert api.get(f"/api/v1/carts/{uuid.uuid4()}").status_code == 404


def test_token_auth_lists_only_my_orders(api, catalog, shopper):
    mine = make_order((catalog["products"][0], 1), user=shopper)
    make_order((catalog["products"][0], 1))
    assert api.get("/api/v1/orders").status_code == 401
    token = api.post(
        "/api/v1/auth/token", {"username": shopper.username, "password": PASSWORD}, format="json"
    ).json()["token"]
    assert Token.objects.get(user=shopper).key == token
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    orders = api.get("/api/v1/orders").json()["results"]
    assert [order["number"] for order in orders] == [mine.number]
    detail = api.get(f"/api/v1/orders/{mine.public_id}").json()
    assert detail["timeline"][0]["to_status"] == "pending_payment"
    assert detail["payment_reference"] == mine.payment.reference


def test_a_wrong_token_is_a_401_problem(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/orders")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert "WWW-Authenticate" in response


def test_session_writes_need_the_csrf_token(catalog, shopper):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(shopper)
    response = api.post("/api/v1/carts")
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on (make run)"])
def test_unknown_api_urls_are_problems_and_pages_stay_html(client, settings, debug):
    settings.DEBUG = debug
    # Any character, a line break included (schemathesis sent one in a path segment).
    unknown = ("/api/v1/no-such-endpoint", "/api/v1/carts/x%0Ay/lines/%0A")
    for method in (client.get, client.post, client.put, client.delete):
        for path in unknown:
            api_response = method(path)
            assert api_response.status_code == 404, path
            assert api_response["Content-Type"] == PROBLEM, path
            assert api_response.json()["type"] == "/problems/not-found", path
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_throttling_answers_429_with_retry_after(api, monkeypatch, catalog):
    # DRF reads the rates into the throttle class at import, so the test sets them there.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "3/min"})
    responses = [api.get("/api/v1/categories") for _ in range(4)]
    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    assert responses[-1]["Content-Type"] == PROBLEM
    assert int(responses[-1]["Retry-After"]) > 0
    assert responses[-1].json()["type"] == "/problems/rate-limited"


HEADLESS = "http://127.0.0.1:8004"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Canal Street",
    "postal_code": "1011",
    "city": "Amsterdam",
    "country": "NL",
}


@pytest.fixture
def signed_in(api, shopper):
    api.force_authenticate(shopper)
    return api


def _cart_with(api, *lines):
    cart = api.post("/api/v1/carts").json()
    for product, quantity in lines:
        added = api.post(
            f"/api/v1/carts/{cart['id']}/lines",
            {"sku": product.sku, "quantity": quantity},
            format="json",
        )
        assert added.status_code == 200, added.json()
    return cart["id"]


def _checkout(api, cart_id, **changes):
    body = {
        "cart_id": cart_id,
        "shipping_address": ADDRESS,
        "return_url": HEADLESS + "/#/orders/{order_id}",
        **changes,
    }
    return api.post("/api/v1/orders", body, format="json")


def test_checkout_turns_the_cart_into_an_order_and_a_payment_page(signed_in, catalog, shopper):
    mug = catalog["products"][0]
    stock_before = mug.stock
    cart_id = _cart_with(signed_in, (mug, 2))

    response = _checkout(signed_in, cart_id)

    assert response.status_code == 201, response.json()
    order = response.json()
    assert response["Location"].endswith(f"/api/v1/orders/{order['id']}")
    assert order["status"] == "pending_payment"
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [(mug.sku, 2)]
    assert order["shipping_address"]["city"] == "Amsterdam"
    assert order["payment_url"].startswith("http://127.0.0.1:8003/pay?")
    assert f"reference={order['payment_reference']}" in order["payment_url"]
    back = quote(f"{HEADLESS}/#/orders/{order['id']}", safe="")
    assert f"return_url={back}" in order["payment_url"]
    mug.refresh_from_db()
    assert mug.stock == stock_before - 2
    assert signed_in.get(f"/api/v1/carts/{cart_id}").json()["item_count"] == 0
    mine = signed_in.get("/api/v1/orders").json()["results"]
    assert [(o["number"], o["status"]) for o in mine] == [(order["number"], "pending_payment")]
    assert shopper.orders.get().email == shopper.email  # the account's, none given


def test_checkout_needs_a_signed_in_shopper(api, catalog):
    cart_id = _cart_with(api, (catalog["products"][0], 1))
    response = _checkout(api, cart_id)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_checkout_refuses_a_return_url_off_the_storefront_origins(signed_in, catalog):
    cart_id = _cart_with(signed_in, (catalog["products"][0], 1))
    response = _checkout(signed_in, cart_id, return_url="https://evil.example/#/orders/next")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"detail": "Not on an allowed storefront origin.", "pointer": "/return_url"}
    ]


def test_checkout_errors_are_precise(signed_in, catalog):
    mug = catalog["products"][0]
    empty = _checkout(signed_in, _cart_with(signed_in))
    assert empty.status_code == 422
    assert empty.json()["type"] == "/problems/business-rule"

    unknown = _checkout(signed_in, str(uuid.uuid4()))
    assert unknown.status_code == 400
    assert unknown.json()["type"] == "/problems/validation-failed"
    assert unknown.json()["errors"] == [{"detail": "No such cart.", "pointer": "/cart_id"}]

    bad_country = _checkout(
        signed_in, _cart_with(signed_in, (mug, 1)), shipping_address={**ADDRESS, "country": "XX"}
    )
    assert bad_country.status_code == 400
    assert bad_country.json()["errors"][0]["pointer"] == "/shipping_address/country"

    cart_id = _cart_with(signed_in, (mug, 1))  # a signed-in shopper's one cart: 2 units now
    mug.stock = 1
    mug.save()
    sold_out = _checkout(signed_in, cart_id)
    assert sold_out.status_code == 422
    assert mug.name in sold_out.json()["detail"]
    assert signed_in.get(f"/api/v1/carts/{cart_id}").json()["item_count"] == 2  # nothing taken
    mug.refresh_from_db()
    assert mug.stock == 1
