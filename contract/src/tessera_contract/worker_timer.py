"""Periodic work in a Tessera Celery worker, the one way: the worker's timer queues named tasks.

Each worker's main process queues the periodic tasks by name on its own timer; the pool runs
them like any other task. The worker's timer rather than celery beat: no extra process to
deploy and keep single. So every periodic task must be idempotent (every worker queues it,
and several sweeps at once are harmless); a broker hiccup costs one tick, not the timer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery, bootsteps

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    """Queue the task registered as ``task_name`` every ``interval_seconds`` (0: never)."""

    task_name: str
    interval_seconds: float


def _queue(app: Celery, task_name: str) -> None:
    try:
        app.send_task(task_name)
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
            for task in schedule():
                if task.interval_seconds > 0:
                    self._timers.append(
                        parent.timer.call_repeatedly(
                            task.interval_seconds, _queue, (parent.app, task.task_name)
                        )
                    )

        def stop(self, parent: Any) -> None:
            while self._timers:
                self._timers.pop().cancel()

        def shutdown(self, parent: Any) -> None:
            self.stop(parent)

        def __repr__(self) -> str:
            return "<step: periodic tasks>"

    return PeriodicTasksStep
