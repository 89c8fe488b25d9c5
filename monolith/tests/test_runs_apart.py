"""Two test runs on one machine never meet: each has its own RabbitMQ vhost and test
database, named by its run (TESSERA_RUN_ID, else the process id), and removes them after."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.postgres

_ONE_RUN = """
import json, os, django
from tessera_testsupport import rabbitmq_vhost_url
from django.conf import settings
django.setup()
print(json.dumps({
    "broker": rabbitmq_vhost_url(os.environ["RABBITMQ"], "tessera-runs-apart-tests"),
    "database": settings.DATABASES["default"]["TEST"]["NAME"],
}))
"""


def _vhosts() -> set[str]:
    rabbitmqctl = shutil.which("rabbitmqctl")
    assert rabbitmqctl is not None
    listed = subprocess.run(
        [rabbitmqctl, "list_vhosts", "--quiet", "--no-table-headers"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(listed.stdout.split())


def _run(run_id: str, rabbitmq_url: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "TESSERA_RUN_ID": run_id,
        "RABBITMQ": rabbitmq_url,
        "DJANGO_SETTINGS_MODULE": "monolith.settings.test",
    }
    done = subprocess.run(
        [sys.executable, "-c", _ONE_RUN],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_two_runs_get_their_own_vhost_and_database_and_remove_the_vhost_after(
    rabbitmq_url: str,
) -> None:
    first, second = _run("first-run", rabbitmq_url), _run("second-run", rabbitmq_url)

    assert first["broker"].endswith("/tessera-runs-apart-tests_first_run")
    assert second["broker"].endswith("/tessera-runs-apart-tests_second_run")
    assert first["database"].endswith("_first_run")
    assert second["database"].endswith("_second_run")
    assert first["database"] != second["database"]
    left = _vhosts()
    assert "tessera-runs-apart-tests_first_run" not in left
    assert "tessera-runs-apart-tests_second_run" not in left
