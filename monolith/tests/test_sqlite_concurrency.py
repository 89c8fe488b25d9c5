"""The embedded default takes concurrent writers: job-result callbacks that arrive at once on
SQLite are all recorded. With Django's defaults (deferred transactions, rollback journal) all
but one got 503 "database is locked" at once: a transaction that reads and then writes cannot
wait for the lock another writer holds."""

import json
import os
import subprocess
import sys
from pathlib import Path

from .processing_support import CALLBACK_SECRET

DRIVER = Path(__file__).with_name("sqlite_concurrent_callbacks.py")
CALLBACKS = 8


def test_concurrent_job_result_callbacks_on_sqlite_are_all_recorded(tmp_path):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "monolith.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'monolith.sqlite3'}",
        "TESSERA_VAR_DIR": str(tmp_path),
        "JOB_RESULT_CALLBACK_SECRETS": CALLBACK_SECRET,
        # The driver imports this suite's helpers as the package `tests`.
        "PYTHONPATH": os.pathsep.join([str(DRIVER.parents[1]), os.environ.get("PYTHONPATH", "")]),
    }

    completed = subprocess.run(
        [sys.executable, str(DRIVER), str(CALLBACKS)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads(completed.stdout.splitlines()[-1]) == [204] * CALLBACKS
