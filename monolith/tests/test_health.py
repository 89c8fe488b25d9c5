"""/healthz and /readyz in the contract's shape, checked by schemathesis and by hand."""

import json

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from jsonschema import Draft202012Validator
from tessera_testsupport.health_http import health_post_refusal_check

from monolith.api.contract_drift import CONTRACT_PATH

pytestmark = pytest.mark.django_db
SCHEMAS = CONTRACT_PATH.parent / "schemas"


def test_healthz_answers_without_touching_dependencies(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["component"] == "monolith"


def test_readyz_reports_each_dependency(client, media_root):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {check["name"]: check["status"] for check in body["checks"]} == {
        "database": "ok",
        "migrations": "ok",
        "storage": "ok",
    }


def test_readyz_is_503_with_retry_after_when_migrations_are_missing(client, media_root):
    MigrationRecorder.Migration.objects.filter(app="orders").delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    failing = [check for check in response.json()["checks"] if check["status"] == "failing"]
    assert [(check["name"], check["detail"]) for check in failing] == [
        ("migrations", "RuntimeError")
    ]


@pytest.mark.parametrize(
    ("path", "schema_file"), [("/healthz", "liveness.json"), ("/readyz", "readiness.json")]
)
def test_health_bodies_conform_to_the_contracts_schemas(client, media_root, path, schema_file):
    validator = Draft202012Validator(json.loads((SCHEMAS / schema_file).read_text()))
    body = client.get(path).json()
    assert list(validator.iter_errors(body)) == []


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_another_method_on_a_health_endpoint_is_a_405_problem_not_the_csrf_page(path, method):
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/method-not-allowed"
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_post_over_http_to_a_health_endpoint_is_a_405_problem_not_the_csrf_page(
    live_server, path
):
    """Through a real server and every middleware, as a probe or a scanner sends it."""
    health_post_refusal_check(f"{live_server.url}{path}")
