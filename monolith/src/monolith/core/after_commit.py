"""Queue a Celery task once the current transaction commits: the one way the monolith does it.

By task name, so a service queues its app's task without importing the tasks module that
imports the service back. A broker outage at that moment must neither turn a committed
change into an error for the caller (the change is saved) nor pass unseen: the failure is
logged, and the row the task would have worked on stays in the state its app's sweep looks
for (the processing-jobs outbox's pending rows, the inbox's stuck events).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def _task(name: str) -> Any:
    task = current_app.tasks.get(name)
    if task is None:
        # Celery discovers the apps' tasks modules lazily (a web process never starts a
        # worker): import them the first time a task is asked for by name.
        current_app.loader.import_default_modules()
        task = current_app.tasks[name]
    return task


def enqueue_after_commit(task_name: str, *args: Any) -> None:
    """After commit, queue the task registered as ``task_name`` with ``args``."""

    def enqueue() -> None:
        try:
            _task(task_name).delay(*args)
        except Exception:
            logger.exception("could not queue %s%r; its sweep will pick it up", task_name, args)

    transaction.on_commit(enqueue)
