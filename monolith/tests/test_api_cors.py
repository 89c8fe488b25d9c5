"""Cross-origin calls to /api/v1/: only origins on the allow-list (settings) get CORS headers."""

import pytest
from django.test import Client, override_settings

from .factories import make_category, make_product

pytestmark = pytest.mark.django_db
ALLOWED = "http://127.0.0.1:8004"


@pytest.fixture(autouse=True)
def allow_list():
    with override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED]):
        yield


@pytest.fixture
def client():
    make_product(category=make_category("Kitchen"), name="Mug")
    return Client()


def preflight(client, origin):
    return client.options(
        "/api/v1/products",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )


def test_an_allowed_origin_passes_preflight_and_reads_the_catalog(client):
    response = preflight(client, ALLOWED)
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "authorization" in response["Access-Control-Allow-Headers"].lower()
    answer = client.get("/api/v1/products", headers={"Origin": ALLOWED})
    assert answer.status_code == 200
    assert answer["Access-Control-Allow-Origin"] == ALLOWED
    # Token auth travels in a header, so no cookies are shared across origins.
    assert "Access-Control-Allow-Credentials" not in answer


def test_an_origin_off_the_allow_list_is_refused(client):
    response = preflight(client, "http://evil.example")
    assert "Access-Control-Allow-Origin" not in response
    answer = client.get("/api/v1/products", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in answer


def test_server_rendered_pages_get_no_cors_headers(client):
    answer = client.get("/", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in answer
