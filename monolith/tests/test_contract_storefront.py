"""The storefront API against the contract: no drift, and schemathesis finds no 5xx or mismatch."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from jsonschema import Draft202012Validator
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from monolith.api.contract_drift import CONTRACT_PATH, storefront_drift

from .factories import make_category, make_product, make_user


def test_the_storefront_api_matches_the_contract():
    drift = storefront_drift()
    assert not drift, f"Run `make contract` if the change is intended.\n{drift}"


def altered_contract(tmp_path: Path, alter) -> Path:
    copy = tmp_path / "contract"
    shutil.copytree(CONTRACT_PATH.parent, copy)
    document = yaml.safe_load((copy / "openapi.yaml").read_text())
    alter(document)
    (copy / "openapi.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return copy / "openapi.yaml"


def test_a_contract_field_the_api_does_not_serve_is_reported_by_name(tmp_path):
    def promise_a_rating(document):
        product = document["components"]["schemas"]["CatalogProduct"]
        product["properties"]["rating"] = {"type": "number"}

    drift = storefront_drift(altered_contract(tmp_path, promise_a_rating))
    assert re.search(r"^-\s+rating:$", drift, re.MULTILINE), drift
    assert "+++ monolith (drf-spectacular)" in drift


def test_an_operation_missing_from_the_contract_is_reported(tmp_path):
    def forget_categories(document):
        del document["paths"]["/api/v1/categories"]

    drift = storefront_drift(altered_contract(tmp_path, forget_categories))
    assert re.search(r"^\+\s+/api/v1/categories:$", drift, re.MULTILINE), drift


schema = schemathesis.openapi.from_path(CONTRACT_PATH).include(tag="storefront")
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=60
)


@pytest.fixture
def shop_for_fuzzing():
    kitchen = make_category("Kitchen")
    return [make_product(category=kitchen, name=f"Mug {n}", stock=50) for n in range(3)]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    """Once as deployed, once as `make run` serves it: API errors are problems in both."""
    settings.DEBUG = request.param
    return request.param


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_storefront_api_conforms_to_the_contract(case, live_server, shop_for_fuzzing, debug):
    case.call_and_validate(base_url=live_server.url)


# --- The drifts a client generated from the contract ran into (issue 24) ------------------


def _contract_schema_validator(name: str) -> Draft202012Validator:
    document = yaml.safe_load(CONTRACT_PATH.read_text())
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def test_the_published_address_schema_accepts_its_own_blank_line2_default():
    address = {"name": "Ada", "line1": "1 Canal St", "postal_code": "1011", "city": "A"}
    validator = _contract_schema_validator("ShippingAddressInputRequest")

    for line2 in ("", "Flat 2"):
        assert not list(validator.iter_errors({**address, "country": "NL", "line2": line2}))


@pytest.mark.django_db
def test_a_whitespace_only_search_valid_in_the_schema_is_answered_as_no_search(client):
    make_product(category=make_category("Kitchen"), name="Teapot")

    response = client.get("/api/v1/products", {"search": "   "})

    assert response.status_code == 200
    assert [product["name"] for product in response.json()["results"]] == ["Teapot"]


@pytest.mark.django_db
def test_integer_fields_refuse_numbers_sent_as_strings(client):
    sku = make_product(category=make_category("Kitchen")).sku
    cart = client.post("/api/v1/carts").json()["id"]
    lines = f"/api/v1/carts/{cart}/lines"

    as_string = client.post(lines, {"sku": sku, "quantity": "3"}, content_type="application/json")
    as_number = client.post(lines, {"sku": sku, "quantity": 3}, content_type="application/json")
    changed = client.put(f"{lines}/{sku}", {"quantity": "1"}, content_type="application/json")

    assert as_string.status_code == 400
    assert as_string.json()["errors"] == [
        {"detail": "A valid integer is required.", "pointer": "/quantity"}
    ]
    assert as_number.status_code == 200
    assert changed.status_code == 400


def test_the_cart_to_order_flow_is_declared_as_links():
    links = {
        (operation["operationId"], name, link["operationId"])
        for path_item in yaml.safe_load(CONTRACT_PATH.read_text())["paths"].values()
        for operation in path_item.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
        for name, link in response.get("links", {}).items()
    }

    assert {
        ("carts_create", "AddLine", "carts_lines_create"),
        ("carts_lines_create", "PlaceOrder", "orders_create"),
        ("orders_create", "GetOrder", "orders_retrieve"),
    } <= links


@pytest.mark.django_db(transaction=True)
def test_a_client_following_the_links_walks_cart_to_order_within_the_contract(
    live_server, shop_for_fuzzing
):
    """Schemathesis's stateful phase, signed in with a token, throttling relaxed (test
    settings): a new cart, its lines, an order from it, the order, all as the contract says."""
    shopper = make_user("link-walker")
    token = Token.objects.create(user=shopper)
    stateful = schemathesis.openapi.from_path(CONTRACT_PATH).include(tag="storefront")
    stateful.config.update(
        base_url=live_server.url, headers={"Authorization": f"Token {token.key}"}
    )
    # Checkout refuses schema-valid input on two rules the schema does not state (the return
    # URL's allowed storefront origins, the shop's list of countries): a documented 400, which
    # the positive-data check would count as a rejection of valid data.
    stateful.config.checks.update(excluded_check_names=["positive_data_acceptance"])
    machine = stateful.as_state_machine()

    machine.run(
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
