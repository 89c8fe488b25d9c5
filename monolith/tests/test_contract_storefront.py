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
from schemathesis import GenerationMode

from monolith.api.contract import CONTRACT_PATH, storefront_drift

from .factories import make_category, make_product


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
