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
