"""The storefront API refuses bodies it can never accept with a 400 problem, never a crash:
1,000 nested arrays raised RecursionError inside DRF's JSON parser (a 500, and under
`make run` Django's debug page), with no sign-in needed."""

import pytest
from rest_framework.test import APIClient

from .factories import make_category, make_product

pytestmark = pytest.mark.django_db

NESTED_1000 = b"[" * 1000 + b"]" * 1000
PROBLEM = "application/problem+json"


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on (make run)"])
def test_a_thousand_nested_arrays_get_a_400_problem_from_every_json_operation(
    settings, debug, shopper
):
    settings.DEBUG = debug
    api = APIClient()
    api.force_authenticate(shopper)  # the order operation reads its body only once signed in
    cart = api.post("/api/v1/carts").json()["id"]
    sku = make_product(category=make_category("Kitchen")).sku
    operations = {
        "token": ("post", "/api/v1/auth/token"),
        "cart line add": ("post", f"/api/v1/carts/{cart}/lines"),
        "cart line quantity": ("put", f"/api/v1/carts/{cart}/lines/{sku}"),
        "order create": ("post", "/api/v1/orders"),
    }

    for name, (method, path) in operations.items():
        response = getattr(api, method)(path, NESTED_1000, content_type="application/json")

        assert response.status_code == 400, name
        assert response["Content-Type"] == PROBLEM, name
        assert response.json()["type"] == "/problems/malformed-request", name
        assert "deeper than 32 levels" in response.json()["detail"], name
