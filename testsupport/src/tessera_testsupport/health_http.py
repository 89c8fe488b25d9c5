"""The health endpoints of a running Django project, over HTTP, as probes and scanners reach them.

Shared by the suites of both Django projects, which serve the same health views
(``tessera_runtime.health.django``): a request through a real server and every middleware,
with no CSRF cookie or token, finds what a unit test through Django's test client can miss.
"""

from __future__ import annotations

import httpx
import pytest

# What a POST to a health endpoint must get: the contract's 405 problem, uncached.
METHOD_REFUSAL = {
    "status": 405,
    "Content-Type": "application/problem+json",
    "type": "/problems/method-not-allowed",
    "Allow": "GET, HEAD",
    "no-store": True,
}


def health_post_refusal_check(url: str) -> None:
    """Fail the test unless a POST with a body to ``url`` (a ``/healthz`` or ``/readyz``) gets
    the contract's 405 problem, uncached, naming the methods that work: not Django's CSRF page."""
    response = httpx.post(url, content=b"{}", timeout=10)
    media_type = response.headers.get("Content-Type")
    problem = response.json() if media_type == "application/problem+json" else {}
    seen = {
        "status": response.status_code,
        "Content-Type": media_type,
        "type": problem.get("type"),
        "Allow": response.headers.get("Allow"),
        "no-store": "no-store" in response.headers.get("Cache-Control", ""),
    }
    if seen != METHOD_REFUSAL:
        pytest.fail(f"POST {url}: {seen}, not {METHOD_REFUSAL}\n{response.text[:300]}")
