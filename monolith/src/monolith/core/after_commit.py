"""Queue a Celery task once the current transaction commits: the one way the monolith does it.

By task name, so a service queues its app's task without importing the tasks module that
imports the service back. A broker outage at that moment must neither turn a committed
change into an error for the caller (the change is saved) nor pass unseen: the failure is
logged, and the row the task would have worked on stays in the state its app's sweep looks
for (the processing-jobs outbox's pending rows, the inbox's stuck events).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# Inside enqueues_batched(): the items each list-taking task will be queued with.
_batched: ContextVar[dict[str, list[Any]] | None] = ContextVar("enqueues_batched", default=None)


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


def enqueue_item_after_commit(task_name: str, item: Any) -> None:
    """After commit, queue the task ``task_name`` (which takes a list) for ``item``.

    Inside ``enqueues_batched()`` the items are gathered and the task is queued once with all
    of them: a batch of webhooks that marks 100 orders paid queues one invoice submission,
    not 100.
    """
    batched = _batched.get()
    if batched is None:
        enqueue_after_commit(task_name, [item])
    else:
        batched.setdefault(task_name, []).append(item)


@contextmanager
def enqueues_batched() -> Iterator[None]:
    """Gather the block's ``enqueue_item_after_commit`` calls into one task per name.

    Use it inside the transaction: the tasks are queued after that transaction commits, and a
    block left by an exception queues nothing (its transaction rolls back too).
    """
    gathered: dict[str, list[Any]] = {}
    token = _batched.set(gathered)
    try:
        yield
    finally:
        _batched.reset(token)
    for task_name, items in gathered.items():
        enqueue_after_commit(task_name, items)
