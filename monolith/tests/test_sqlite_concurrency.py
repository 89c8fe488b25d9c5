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
        # The suite's helpers import the repository's `scripts` package.
        "PYTHONPATH": str(DRIVER.parents[2]),
    }

    completed = subprocess.run(
        [sys.executable, "-m", f"tests.{DRIVER.stem}", str(CALLBACKS)],
        cwd=DRIVER.parents[1],  # monolith/: the suite is the package `tests` there
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads(completed.stdout.splitlines()[-1]) == [204] * CALLBACKS
