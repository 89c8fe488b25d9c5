"""`manage.py check --deploy` is clean for the production settings."""

import os
import secrets
import subprocess

from scripts import components


def test_check_deploy_is_clean_for_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "monolith.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    }
    result = subprocess.run(
        components.manage("monolith", "check", "--deploy", "--fail-level", "WARNING"),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="monolith.settings.production", DJANGO_ALLOWED_HOSTS="x")
    result = subprocess.run(
        components.manage("monolith", "check"),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def _production_metrics_statuses(tmp_path, **environment: str) -> list[int]:
    """The statuses of GET /metrics (no token, the right one, a wrong one) served by a
    process on the production settings, through Django's whole request handling."""
    probe = (
        "from django.test import Client; c = Client(); print(*[c.get('/metrics', **h)"
        ".status_code for h in ({}, {'HTTP_AUTHORIZATION': 'Bearer scrape-token-0123'},"
        " {'HTTP_AUTHORIZATION': 'Bearer guessed'})])"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "TESSERA_METRICS_TOKEN"},
        "DJANGO_SETTINGS_MODULE": "monolith.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "TESSERA_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
        **environment,
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        components.manage("monolith", "shell", "-c", probe),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [int(status) for status in result.stdout.split()[-3:]]


def test_in_production_metrics_need_the_scrapers_bearer_token(tmp_path):
    statuses = _production_metrics_statuses(tmp_path, TESSERA_METRICS_TOKEN="scrape-token-0123")

    assert statuses == [401, 200, 401]


def test_in_production_without_a_token_metrics_are_not_served(tmp_path):
    assert _production_metrics_statuses(tmp_path) == [404, 404, 404]
