"""Periodic work in a Tessera Celery worker, the one way: the worker's timer queues named tasks.

Each worker's main process queues the periodic tasks by name on its own timer, to a queue it
consumes itself, so its own pool runs them like any other task. The worker's timer rather
than celery beat: no extra process to deploy and keep single. So every periodic task must be
idempotent (every worker queues it, and several sweeps at once are harmless). A tick's task
expires after a few intervals (EXPIRY_INTERVALS, EXPIRY_MIN_SECONDS at least): a pool busy
with long jobs skips ticks instead of piling them up, yet a transport that delivers slowly
(SQS polls) still runs them. A broker hiccup costs one tick, not the timer.

The processing worker's outbox relay is not one of these: it publishes from a thread of its
own, and only when messages wait. Queueing a task every two seconds from the timer raced
kombu's filesystem transport (`make run`), whose reader can open a message file before its
writer has filled it, and stopped the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery, bootsteps

logger = logging.getLogger(__name__)

EXPIRY_INTERVALS = 5
EXPIRY_MIN_SECONDS = 10.0


@dataclass(frozen=True)
class PeriodicTask:
    """Queue the task registered as ``task_name`` every ``interval_seconds`` (0: never)."""

    task_name: str
    interval_seconds: float


def _queue(app: Celery, task_name: str, queue: str | None, expires: float) -> None:
    try:
        app.send_task(task_name, queue=queue, expires=expires)
    except Exception:
        logger.exception(
            "could not queue the periodic task %s; the next tick tries again", task_name
        )


def periodic_tasks_step(
    schedule: Callable[[], Sequence[PeriodicTask]],
) -> type[bootsteps.StartStopStep]:
    """A consumer bootstep queueing ``schedule()``'s tasks; add it with
    ``app.steps["consumer"].add(...)``. The schedule is read when the worker starts, after
    Django's settings are loaded."""

    class PeriodicTasksStep(bootsteps.StartStopStep):
        requires = ("celery.worker.consumer.tasks:Tasks",)

        def __init__(self, parent: Any, **kwargs: Any) -> None:
            super().__init__(parent, **kwargs)
            self._timers: list[Any] = []

        def start(self, parent: Any) -> None:
            if parent.timer is None:
                return
            # The first queue this worker consumes (-Q), so the task runs in its own pool.
            consumed = parent.app.amqp.queues.consume_from
            queue = next(iter(consumed), None) if consumed else None
            for task in schedule():
                if task.interval_seconds > 0:
                    expires = max(task.interval_seconds * EXPIRY_INTERVALS, EXPIRY_MIN_SECONDS)
                    arguments = (parent.app, task.task_name, queue, expires)
                    self._timers.append(
                        parent.timer.call_repeatedly(task.interval_seconds, _queue, arguments)
                    )

        def stop(self, parent: Any) -> None:
            while self._timers:
                self._timers.pop().cancel()

        def shutdown(self, parent: Any) -> None:
            self.stop(parent)

        def __repr__(self) -> str:
            return "<step: periodic tasks>"

    return PeriodicTasksStep
