"""/healthz and /readyz through a real server: the views both Django projects share."""

import httpx
import pytest
from tessera_testsupport.health_http import health_post_refusal_check


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_post_over_http_to_a_health_endpoint_is_a_405_problem(live_server, path):
    health_post_refusal_check(f"{live_server.url}{path}")


def test_healthz_over_http_names_the_component_and_is_never_cached(live_server):
    response = httpx.get(f"{live_server.url}/healthz", timeout=10)

    assert response.status_code == 200
    assert response.json()["component"] == "processing"
    assert "no-store" in response.headers["Cache-Control"]
