"""The service's settings: its own database, never the monolith's."""

from __future__ import annotations

import os
import subprocess
import sys

from .stack_testing import SERVICE_DIR


def _manage_check(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
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
