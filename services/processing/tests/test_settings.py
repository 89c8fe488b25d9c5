"""The service's settings: its own database, never the monolith's; the platform's broker rules."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tessera_runtime.brokers import CELERY_RELIABILITY_SETTINGS, REDIS_VISIBILITY_TIMEOUT_SECONDS

from scripts import components

from .stack_testing import SERVICE_DIR

MONOLITH_DIR = SERVICE_DIR.parents[1] / "monolith"
# Celery's names for the settings both workers share (Django's are CELERY_-prefixed).
SHARED_CELERY_KEYS = [name.removeprefix("CELERY_").lower() for name in CELERY_RELIABILITY_SETTINGS]


def _manage_check(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        components.manage("processing", "check"),
        env=environment,
        cwd=SERVICE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_service_refuses_to_start_on_the_monolith_database_setting_alone(tmp_path):
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PROCESSING_DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment["TESSERA_VAR_DIR"] = str(tmp_path)
    environment["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/tessera_monolith"

    refused = _manage_check(environment)
    assert refused.returncode != 0
    assert "PROCESSING_DATABASE_URL" in refused.stderr
    assert "never uses the monolith's database" in refused.stderr

    environment["PROCESSING_DATABASE_URL"] = f"sqlite:///{tmp_path / 'processing.sqlite3'}"
    started = _manage_check(environment)
    assert started.returncode == 0, started.stderr


def _celery_config(project_dir: Path, app: str, tmp_path: Path) -> dict[str, Any]:
    """What the project's Celery application ends up with, read through its `manage.py shell`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CELERY_VISIBILITY_TIMEOUT"}
    }
    environment |= {
        "TESSERA_VAR_DIR": str(tmp_path),
        "PROCESSING_DATABASE_URL": f"sqlite:///{tmp_path / 'processing.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
    }
    script = (
        f"import json; from {app}.celery_app import app; conf = app.conf; "
        "print(json.dumps({'transport': conf.broker_transport_options, "
        "'time_limit': conf.task_time_limit, "
        f"'shared': {{key: conf[key] for key in {SHARED_CELERY_KEYS!r}}}}}))"
    )
    completed = subprocess.run(
        components.manage("processing", "shell", "-c", script),
        env=environment,
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    config: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return config


def test_both_celery_workers_keep_and_redeliver_messages_by_the_same_rules(tmp_path):
    processing = _celery_config(SERVICE_DIR, "processing", tmp_path)
    monolith = _celery_config(MONOLITH_DIR, "monolith", tmp_path)

    shared = dict(zip(SHARED_CELERY_KEYS, CELERY_RELIABILITY_SETTINGS.values(), strict=True))
    redis = {"visibility_timeout": REDIS_VISIBILITY_TIMEOUT_SECONDS}
    assert processing["shared"] == monolith["shared"] == shared
    assert processing["transport"] == monolith["transport"] == redis
    # Redis gives an unacknowledged message to another worker after the timeout: a task still
    # inside its hard time limit must never be handed out twice.
    for config in (processing, monolith):
        assert config["time_limit"] < REDIS_VISIBILITY_TIMEOUT_SECONDS
