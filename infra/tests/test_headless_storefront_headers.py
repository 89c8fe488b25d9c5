"""The headless storefront's servers (8004 under make run, nginx in the compose stack) send
its Content-Security-Policy and the usual security headers; they sent none."""

from pathlib import Path
from string import Template

from werkzeug.test import Client

from scripts import headless_storefront
from scripts.container_stack import REPO_ROOT

NGINX_TEMPLATE = REPO_ROOT / "infra" / "nginx" / "templates" / "headless.conf.template"

API_ORIGIN = "http://127.0.0.1:8000"


def built_app(tmp_path: Path) -> Path:
    """A build folder as `headless_storefront.build` leaves it, for ``API_ORIGIN``."""
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    (tmp_path / ".built-for").write_text(API_ORIGIN)
    return tmp_path


def test_every_answer_of_the_make_run_server_carries_the_policy_and_headers(
    tmp_path: Path,
) -> None:
    client = Client(headless_storefront.application(built_app(tmp_path)))

    for path in ("/", "/healthz", "/nowhere"):
        response = client.get(path)
        response.close()  # WhiteNoise answers with an open file
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert f"connect-src 'self' {API_ORIGIN}" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_nginx_serves_the_app_with_the_same_policy() -> None:
    # As the nginx image renders it (envsubst of the variables that are set).
    rendered = Template(NGINX_TEMPLATE.read_text()).safe_substitute(
        {
            "TESSERA_HEADLESS_PORT": "127.0.0.1:8084",
            "TESSERA_HEADLESS_ROOT": "/srv/headless",
            "TESSERA_HEADLESS_CSP": headless_storefront.content_security_policy(API_ORIGIN),
        },
    )

    policy = headless_storefront.content_security_policy(API_ORIGIN)
    assert f'add_header Content-Security-Policy "{policy}" always;' in rendered
    assert "add_header X-Frame-Options DENY always;" in rendered
